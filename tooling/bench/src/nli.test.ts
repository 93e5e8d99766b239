import { findShared } from '@bayes-peft/fixtures';
import { onnxRuntimeUnavailable } from '@bayes-peft/onnx';
import { benchNli, benchPairs, formatNliTable } from './nli';

const dir = findShared('models/tiny-nli', 'the NLI bench line test');
const ort = onnxRuntimeUnavailable();

(dir && !ort ? describe : describe.skip)('the NLI bench line', () => {
  it('times distinct short-answer pairs (nothing for de-duplication to skip)', () => {
    const pairs = benchPairs(dir!, 256);
    expect(pairs).toHaveLength(256);
    expect(new Set(pairs.map((p) => `${p.premise}\u0000${p.hypothesis}`)).size).toBe(256);
    expect(pairs.every((p) => p.premise !== p.hypothesis)).toBe(true);
  });

  it('gives pairs per second per batch size, as JSON lines and a table', async () => {
    const lines = await benchNli(dir!, [8]);
    expect(lines).toEqual([expect.objectContaining({ model: 'tiny-nli', line: 'nli', batch: 8, pairs: 256 })]);
    expect(lines[0].nli_pairs_per_s).toBeGreaterThan(0);
    expect(lines[0].ms_per_pair).toBeCloseTo(1000 / lines[0].nli_pairs_per_s, 9);
    expect(formatNliTable(lines)).toMatch(/^NLI model {2}batch {2}pairs\/s {2}ms\/pair {2}ort threads\n-+.*\ntiny-nli +8 +\d+ +\d+\.\d{3} +\d+\n$/);
  });
});
