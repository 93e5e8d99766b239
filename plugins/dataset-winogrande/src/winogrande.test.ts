import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { McqDataset } from '@bayes-peft/core';
import { findShared, parquetFromRows, startMockHub, writeParquetRows } from '@bayes-peft/fixtures';
import { instantiateDataset, localRunContext } from '@bayes-peft/mcq';
import plugin, { WinograndeOptions } from './index';

const dataset = (options: Record<string, unknown>, ctx = localRunContext()) => instantiateDataset(plugin, options, ctx) as McqDataset;

const data = findShared('data/winogrande', 'WinoGrande tests over shared/data');
const d = data ? describe : describe.skip;

d('WinoGrande over shared/data', () => {
  it('row counts and label ranges: each size reads its train_<size> file, validation is shared', async () => {
    for (const [size, n] of [
      ['xs', 160],
      ['s', 640],
      ['m', 2558],
      ['l', 10234],
    ] as const) {
      const ctx = localRunContext();
      const ds = dataset({ source: data!, size }, ctx);
      expect(ds.name).toBe(`winogrande_${size}`);
      expect(ds.labels).toEqual(['A', 'B']);
      const train = await ds.load('train');
      expect(train).toHaveLength(n);
      expect(ctx.lines[0]).toContain(`train = split 'train_${size}': ${n} of ${n} examples`);
      // Balanced: half the answers are "1", half "2".
      expect(train.filter((e) => e.label === 0)).toHaveLength(n / 2);
      expect(train.filter((e) => e.label === 1)).toHaveLength(n / 2);
    }
    const test = await dataset({ source: data! }).load('test');
    expect(test).toHaveLength(1267);
    expect(test.filter((e) => e.label === 0)).toHaveLength(628);
    expect(test.filter((e) => e.label === 1)).toHaveLength(639);
    for (const ex of test) expect(ex.prompt.endsWith('\nAnswer:')).toBe(true);
    // shared/ has no train_xl: the error names the split asked for.
    await expect(dataset({ source: data!, size: 'xl' }).load('train')).rejects.toThrow(/no files for split 'train'/);
  });

  it('formats the first validation row exactly as the reference does', async () => {
    const [first] = await dataset({ source: data! }).load('test');
    expect(first.id).toBe('validation-0');
    expect(first.label).toBe(1); // answer "2"
    expect(first.prompt).toBe(
      'Return the label of the correct answer for the question below.\n' +
        '\n' +
        'Question: Sarah was a much better surgeon than Maria so _ always got the easier cases.\n' +
        'Choices:\n' +
        'A) Sarah\n' +
        'B) Maria\n' +
        'Answer:',
    );
  });
});

describe('WinoGrande rows', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-wg-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('reads the hub layout: winogrande_<size>/<split>-*.parquet, the train split named train', async () => {
    for (const size of ['s', 'm']) {
      await fs.mkdir(path.join(dir, `winogrande_${size}`));
      const rows = ['1', '2', '2'].map((answer, k) => ({ sentence: `${size} sentence ${k} with _ here.`, option1: 'Ann', option2: 'Bo', answer }));
      await writeParquetRows(path.join(dir, `winogrande_${size}`, 'train-00000-of-00001.parquet'), size === 's' ? rows : rows.slice(0, 2));
    }
    const s = await dataset({ source: dir, size: 's' }).load('train');
    expect(s.map((e) => [e.id, e.label])).toEqual([
      ['train-0', 0],
      ['train-1', 1],
      ['train-2', 1],
    ]);
    expect(s[0].prompt).toBe('Return the label of the correct answer for the question below.\n\nQuestion: s sentence 0 with _ here.\nChoices:\nA) Ann\nB) Bo\nAnswer:');
    expect(await dataset({ source: dir, size: 'm' }).load('train')).toHaveLength(2);
  });

  it('bad and unlabelled rows fail with file, line and field', async () => {
    const file = path.join(dir, 'validation.jsonl');
    const ok = JSON.stringify({ sentence: 'A _ b.', option1: 'x', option2: 'y', answer: '1' });
    for (const [bad, message] of [
      [{ sentence: 'A _ b.', option1: 'x', option2: 'y', answer: '' }, `field 'answer': "": an unlabelled row`],
      [{ sentence: 'A _ b.', option1: 'x', option2: 'y', answer: '0' }, `field 'answer': expected an integer in [1, 2], got "0"`],
      [{ sentence: 'A _ b.', option1: null, option2: 'y', answer: '1' }, "field 'option1': expected a string, got null"],
    ] as const) {
      await fs.writeFile(file, `${ok}\n${JSON.stringify(bad)}\n`);
      await expect(dataset({ source: dir }).load('test')).rejects.toThrow(`${file} line 2: ${message}`);
    }
  });
});

describe('WinoGrande from the hub (local hub, dataset card configs, parquet)', () => {
  it('loads allenai/winogrande winogrande_<size> by default through the cache, then offline', async () => {
    const rows = (size: string, n: number) => parquetFromRows(Array.from({ length: n }, (_, k) => ({ sentence: `${size} ${k} _ .`, option1: 'a', option2: 'b', answer: k % 2 ? '2' : '1' })));
    const card = ['s', 'm'].map((size) => `- config_name: winogrande_${size}\n  data_files:\n  - split: train\n    path: winogrande_${size}/train-*\n  - split: validation\n    path: winogrande_${size}/validation-*\n`).join('');
    const hub = await startMockHub([
      {
        type: 'dataset',
        id: 'allenai/winogrande',
        revisions: {
          main: {
            files: {
              'README.md': `---\nconfigs:\n${card}---\n`,
              'winogrande_s/train-00000-of-00001.parquet': await rows('s', 4),
              'winogrande_s/validation-00000-of-00001.parquet': await rows('v', 3),
              'winogrande_m/train-00000-of-00001.parquet': await rows('m', 6),
              'winogrande_m/validation-00000-of-00001.parquet': await rows('v', 3),
            },
          },
        },
      },
    ]);
    const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-wg-hub-'));
    try {
      const online = localRunContext({ hub: { offline: false, endpoint: hub.endpoint, cacheDir } });
      const train = await dataset({ size: 'm' }, online).load('train');
      expect(train.map((e) => [e.id, e.label])).toEqual([0, 1, 2, 3, 4, 5].map((k) => [`train-${k}`, k % 2]));
      expect(train[0].prompt).toContain('Question: m 0 _ .\nChoices:\nA) a\nB) b\nAnswer:');
      expect(await dataset({ size: 'm' }, online).load('test')).toHaveLength(3);
      await hub.close();
      const offline = localRunContext({ hub: { offline: true, cacheDir } });
      expect(await dataset({ size: 'm' }, offline).load('train')).toHaveLength(6);
      await expect(dataset({ size: 's' }, offline).load('train')).rejects.toThrow(/offline mode .*winogrande_s/);
    } finally {
      await hub.close().catch(() => {});
      await fs.rm(cacheDir, { recursive: true, force: true });
    }
  });
});

describe('options', () => {
  it('defaults and strictness', () => {
    expect(WinograndeOptions.parse({})).toEqual({ size: 's', splits: { train: 'train', test: 'validation', anchor: 'train' }, subsetMode: 'sample', subsetSeed: 42, addSpace: false });
    expect(() => WinograndeOptions.parse({ size: 'xxl' })).toThrow();
    for (const size of ['xs', 's', 'm', 'l', 'xl', 'debiased']) expect(WinograndeOptions.parse({ size }).size).toBe(size);
    expect(plugin).toMatchObject({ kind: 'dataset', name: 'winogrande' });
  });
});
