import { batchFeeds } from './batch-feed';

const rows = [
  { ids: [1, 10, 2, 20, 2], typeIds: [0, 0, 0, 1, 1], truncated: false },
  { ids: [1, 11, 12, 2, 21, 22, 2], typeIds: [0, 0, 0, 0, 1, 1, 1], truncated: false },
];

describe('batch feeds', () => {
  it('right-pads ids with the pad id, masks the padding, int64 by default', () => {
    const f = batchFeeds(rows, { inputs: ['input_ids', 'attention_mask'], types: {}, padId: 0, segmentIds: false });
    expect(Object.keys(f)).toEqual(['input_ids', 'attention_mask']);
    expect(f.input_ids.dims).toEqual([2, 7]);
    expect(f.input_ids.data).toBeInstanceOf(BigInt64Array);
    expect([...f.input_ids.data].map(Number)).toEqual([1, 10, 2, 20, 2, 0, 0, 1, 11, 12, 2, 21, 22, 2]);
    expect([...f.attention_mask.data].map(Number)).toEqual([1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('feeds only the inputs the graph declares, token_type_ids as zeros unless the model has segment embeddings', () => {
    const zeros = batchFeeds(rows, { inputs: ['input_ids', 'token_type_ids', 'attention_mask'], types: {}, padId: 3, segmentIds: false });
    expect(Object.keys(zeros)).toEqual(['input_ids', 'token_type_ids', 'attention_mask']);
    expect([...zeros.token_type_ids.data].every((x) => Number(x) === 0)).toBe(true);
    expect([...zeros.input_ids.data].slice(5, 7).map(Number)).toEqual([3, 3]);
    const segments = batchFeeds(rows, { inputs: ['input_ids', 'token_type_ids'], types: {}, padId: 0, segmentIds: true });
    expect([...segments.token_type_ids.data].map(Number)).toEqual([0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
  });

  it('follows an int32 declaration', () => {
    const f = batchFeeds(rows, { inputs: ['input_ids', 'attention_mask'], types: { input_ids: 'int32', attention_mask: 'int64' }, padId: 0, segmentIds: false });
    expect(f.input_ids.data).toBeInstanceOf(Int32Array);
    expect(f.attention_mask.data).toBeInstanceOf(BigInt64Array);
  });
});
