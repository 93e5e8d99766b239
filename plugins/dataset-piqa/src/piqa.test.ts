import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { McqDataset } from '@bayes-peft/core';
import { findShared, writeParquetRows } from '@bayes-peft/fixtures';
import { instantiateDataset, localRunContext } from '@bayes-peft/mcq';
import plugin, { PiqaOptions } from './index';

const dataset = (options: Record<string, unknown>, ctx = localRunContext()) => instantiateDataset(plugin, options, ctx) as McqDataset;

const data = findShared('data/piqa', 'PIQA tests over shared/data');
const d = data ? describe : describe.skip;

d('PIQA over shared/data', () => {
  it('row counts and label ranges of validation', async () => {
    const ds = dataset({ source: data! });
    expect(ds.name).toBe('piqa');
    expect(ds.labels).toEqual(['A', 'B']);
    const test = await ds.load('test');
    expect(test).toHaveLength(1838);
    expect(new Set(test.map((e) => e.id)).size).toBe(1838);
    expect(test.filter((e) => e.label === 0)).toHaveLength(910);
    expect(test.filter((e) => e.label === 1)).toHaveLength(928);
    for (const ex of test) expect(ex.prompt.endsWith('\nAnswer:')).toBe(true);
    // shared/ has no PIQA train split; the hub does (16,113 rows).
    await expect(ds.load('train')).rejects.toThrow(/no files for split 'train'/);
  });

  it('formats the first validation row in the designed template', async () => {
    const [first] = await dataset({ source: data! }).load('test');
    expect(first.id).toBe('validation-0');
    expect(first.label).toBe(0);
    expect(first.prompt).toBe(
      'Return the label of the correct answer for the question below.\n' +
        '\n' +
        "Question: How do I ready a guinea pig cage for it's new occupants?\n" +
        'Choices:\n' +
        'A) Provide the guinea pig with a cage full of a few inches of bedding made of ripped paper strips, you will also need to supply it with a water bottle and a food dish.\n' +
        'B) Provide the guinea pig with a cage full of a few inches of bedding made of ripped jeans material, you will also need to supply it with a water bottle and a food dish.\n' +
        'Answer:',
    );
  });
});

describe('PIQA rows', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-piqa-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('reads parquet as the hub serves it (label int64), from <config>/<split>-*.parquet', async () => {
    await fs.mkdir(path.join(dir, 'plain_text'));
    const rows = [0, 1, 1].map((label, k) => ({ goal: `goal ${k}`, sol1: `first ${k}`, sol2: k === 2 ? '' : `second ${k}`, label }));
    await writeParquetRows(path.join(dir, 'plain_text', 'train-00000-of-00001.parquet'), rows);
    const train = await dataset({ source: dir }).load('train');
    expect(train.map((e) => [e.id, e.label])).toEqual([
      ['train-0', 0],
      ['train-1', 1],
      ['train-2', 1],
    ]);
    // An empty solution is kept as it is (a choice may be empty; the goal may not).
    expect(train[2].prompt).toBe('Return the label of the correct answer for the question below.\n\nQuestion: goal 2\nChoices:\nA) first 2\nB) \nAnswer:');
  });

  it('bad and unlabelled rows fail with file, line and field', async () => {
    const file = path.join(dir, 'validation.jsonl');
    const ok = JSON.stringify({ goal: 'g', sol1: 'a', sol2: 'b', label: 1 });
    for (const [bad, message] of [
      [{ goal: 'g', sol1: 'a', sol2: 'b', label: 2 }, "field 'label': expected an integer in [0, 1], got 2"],
      [{ goal: 'g', sol1: 'a', sol2: 'b', label: -1 }, "field 'label': -1: an unlabelled row"],
      [{ goal: '', sol1: 'a', sol2: 'b', label: 0 }, `field 'goal': expected a non-empty string, got ""`],
      [{ goal: 'g', sol1: 'a', label: 0 }, "field 'sol2': missing (the row has goal, sol1, label)"],
    ] as const) {
      await fs.writeFile(file, `${ok}\n${ok}\n${JSON.stringify(bad)}\n`);
      await expect(dataset({ source: dir }).load('test')).rejects.toThrow(`${file} line 3: ${message}`);
    }
  });
});

describe('options', () => {
  it('defaults and strictness', () => {
    expect(PiqaOptions.parse({})).toEqual({ splits: { train: 'train', test: 'validation', anchor: 'train' }, subsetMode: 'sample', subsetSeed: 42, addSpace: false });
    expect(() => PiqaOptions.parse({ compat: {} })).toThrow();
    expect(plugin).toMatchObject({ kind: 'dataset', name: 'piqa' });
  });
});
