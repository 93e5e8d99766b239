import { globToRegExp, parseCardConfigs, pickSplitFiles } from './splits';

describe('pickSplitFiles', () => {
  it('reads the layouts the hub uses', () => {
    const arc = ['README.md', 'ARC-Challenge/train-00000-of-00001.parquet', 'ARC-Challenge/test-00000-of-00001.parquet', 'ARC-Easy/train-00000-of-00001.parquet'];
    expect(pickSplitFiles(arc, { config: 'ARC-Easy', split: 'train' }).files).toEqual(['ARC-Easy/train-00000-of-00001.parquet']);
    expect(pickSplitFiles(arc, { config: 'arc-easy', split: 'train' }).files).toEqual(['ARC-Easy/train-00000-of-00001.parquet']);
    expect(pickSplitFiles(arc, { config: 'ARC-Hard', split: 'train' }).why).toMatch(/no folder named 'ARC-Hard' \(folders with data: ARC-Challenge, ARC-Easy\)/);
    // No config given and two configs hold the split: ambiguous, unless one is `default`.
    expect(pickSplitFiles(arc, { split: 'train' }).why).toMatch(/several folders .*ARC-Challenge, ARC-Easy/);
    expect(pickSplitFiles(['default/train/0000.parquet', 'other/train/0000.parquet'], { split: 'train' }).files).toEqual(['default/train/0000.parquet']);
    const conv = ['plain_text/partial-train/0000.parquet', 'plain_text/partial-train/0001.parquet', 'plain_text/validation/0000.parquet'];
    expect(pickSplitFiles(conv, { config: 'plain_text', split: 'train' }).files).toHaveLength(2);
    expect(pickSplitFiles(['data/dev.jsonl', 'data/train.jsonl'], { split: 'validation' }).files).toEqual(['data/dev.jsonl']);
    expect(pickSplitFiles(['ai2_arc-train.parquet', 'ai2_arc-test.parquet'], { split: 'test' }).files).toEqual(['ai2_arc-test.parquet']);
    expect(pickSplitFiles(['train.jsonl', 'train.parquet', 'contest.jsonl'], { split: 'train' }).files).toEqual(['train.parquet']);
    expect(pickSplitFiles(['contest.jsonl', 'latest.csv'], { split: 'test' }).files).toEqual([]);
  });

  it('follows dataset-card configs', () => {
    const card = parseCardConfigs(
      ['---', 'license: mit', 'configs:', '- config_name: main', '  default: true', '  data_files:', '  - split: train', '    path: "main/train-*"', '  - split: test', '    path: [main/test-0.parquet, main/test-1.parquet]', '- config_name: extra', '  data_files: extra/*.jsonl', '---', 'text'].join('\n'),
    )!;
    expect(card.map((c) => [c.name, c.isDefault])).toEqual([
      ['main', true],
      ['extra', false],
    ]);
    const files = ['main/train-00000-of-00002.parquet', 'main/train-00001-of-00002.parquet', 'main/test-0.parquet', 'main/test-1.parquet', 'extra/a.jsonl', 'extra/sub/b.jsonl'];
    expect(pickSplitFiles(files, { split: 'train' }, card).files).toEqual(['main/train-00000-of-00002.parquet', 'main/train-00001-of-00002.parquet']);
    expect(pickSplitFiles(files, { split: 'test' }, card).files).toEqual(['main/test-0.parquet', 'main/test-1.parquet']);
    expect(pickSplitFiles(files, { config: 'extra', split: 'train' }, card).files).toEqual(['extra/a.jsonl']);
    expect(pickSplitFiles(files, { config: 'nope', split: 'train' }, card).why).toMatch(/no config 'nope' \(configs: main, extra\)/);
    expect(parseCardConfigs('# no header')).toBeNull();
    expect(globToRegExp('data/**/train-*.parquet').test('data/a/b/train-0.parquet')).toBe(true);
    expect(globToRegExp('data/**/train-*.parquet').test('data/train-0.parquet')).toBe(true);
    expect(globToRegExp('data/*.json').test('data/x/y.json')).toBe(false);
  });
});
