import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { McqDataset } from '@bayes-peft/core';
import { findShared, writeParquetRows } from '@bayes-peft/fixtures';
import { instantiateDataset, localRunContext } from '@bayes-peft/mcq';
import plugin, { HellaswagOptions } from './index';

const dataset = (options: Record<string, unknown>, ctx = localRunContext()) => instantiateDataset(plugin, options, ctx) as McqDataset;

const data = findShared('data/hellaswag', 'HellaSwag tests over shared/data');
const d = data ? describe : describe.skip;

d('HellaSwag over shared/data', () => {
  it('row counts and label ranges of validation', async () => {
    const ds = dataset({ source: data! });
    expect(ds.name).toBe('hellaswag');
    expect(ds.labels).toEqual(['A', 'B', 'C', 'D']);
    const test = await ds.load('test');
    expect(test).toHaveLength(10042);
    expect(new Set(test.map((e) => e.id)).size).toBe(10042);
    const counts = [0, 1, 2, 3].map((c) => test.filter((e) => e.label === c).length);
    expect(counts).toEqual([2515, 2485, 2584, 2458]);
    for (const ex of test) expect(ex.prompt.endsWith('\nAnswer:')).toBe(true);
  });

  it('formats the first validation row in the designed template', async () => {
    const [first] = await dataset({ source: data!, maxTestExamples: 1, subsetMode: 'first' }).load('test');
    expect(first.id).toBe('validation-0');
    expect(first.label).toBe(3);
    expect(first.prompt).toBe(
      'Return the label of the correct answer for the question below.\n' +
        '\n' +
        'Question: A man is sitting on a roof. he\n' +
        'Choices:\n' +
        'A) is using wrap to wrap a pair of skis.\n' +
        'B) is ripping level tiles off.\n' +
        "C) is holding a rubik's cube.\n" +
        'D) starts pulling up roofing on a roof.\n' +
        'Answer:',
    );
  });
});

describe('HellaSwag rows', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-hs-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it("reads parquet in the hub's schema (ind, ctx_a, ctx_b, ctx, endings list, label string)", async () => {
    const rows = [24, 92].map((ind, k) => ({
      ind,
      activity_label: 'Cooking',
      ctx_a: `Context ${k}.`,
      ctx_b: 'then',
      ctx: `Context ${k}. then`,
      endings: ['a', 'b', 'c', 'd'],
      source_id: 'x',
      split: 'train',
      split_type: 'indomain',
      label: String(k + 1),
    }));
    await writeParquetRows(path.join(dir, 'train.parquet'), rows);
    const train = await dataset({ source: dir }).load('train');
    expect(train.map((e) => [e.id, e.label])).toEqual([
      ['24', 1],
      ['92', 2],
    ]);
    expect(train[1].prompt).toBe('Return the label of the correct answer for the question below.\n\nQuestion: Context 1. then\nChoices:\nA) a\nB) b\nC) c\nD) d\nAnswer:');
  });

  it('bad and unlabelled rows fail with file, line and field', async () => {
    const file = path.join(dir, 'validation.jsonl');
    const row = { ctx: 'c', endings: ['a', 'b', 'c', 'd'], label: '0' };
    for (const [bad, message] of [
      [{ ...row, label: '' }, `field 'label': "": an unlabelled row`],
      [{ ...row, label: '4' }, `field 'label': expected an integer in [0, 3], got "4"`],
      [{ ...row, endings: ['a', 'b', 'c', 'd', 'e'] }, "field 'endings': expected at most 4 endings (labels A-D), got 5"],
      [{ ...row, endings: 'abcd' }, `field 'endings': expected an array of strings, got a string ("abcd")`],
    ] as const) {
      await fs.writeFile(file, `${JSON.stringify(row)}\n${JSON.stringify(bad)}\n`);
      await expect(dataset({ source: dir }).load('test')).rejects.toThrow(`${file} line 2: ${message}`);
    }
  });
});

describe('options', () => {
  it('defaults and strictness', () => {
    expect(HellaswagOptions.parse({})).toEqual({ splits: { train: 'train', test: 'validation', anchor: 'train' }, subsetMode: 'sample', subsetSeed: 42, addSpace: false });
    expect(() => HellaswagOptions.parse({ subset: 'x' })).toThrow();
    expect(plugin).toMatchObject({ kind: 'dataset', name: 'hellaswag' });
  });
});
