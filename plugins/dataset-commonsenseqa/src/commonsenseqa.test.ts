import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { McqDataset } from '@bayes-peft/core';
import { findShared, writeParquetRows } from '@bayes-peft/fixtures';
import { instantiateDataset, localRunContext } from '@bayes-peft/mcq';
import plugin, { CommonsenseQaOptions } from './index';

const dataset = (options: Record<string, unknown>, ctx = localRunContext()) => instantiateDataset(plugin, options, ctx) as McqDataset;

const data = findShared('data/commonsenseqa', 'CommonsenseQA tests over shared/data');
const d = data ? describe : describe.skip;

d('CommonsenseQA over shared/data', () => {
  it('row counts and label ranges of train and validation', async () => {
    const ds = dataset({ source: data! });
    expect(ds.name).toBe('commonsenseqa');
    expect(ds.labels).toEqual(['A', 'B', 'C', 'D', 'E']);
    const train = await ds.load('train');
    const test = await ds.load('test');
    expect(train).toHaveLength(9741);
    expect(test).toHaveLength(1221);
    expect(new Set(test.map((e) => e.id)).size).toBe(1221);
    expect([0, 1, 2, 3, 4].map((c) => test.filter((e) => e.label === c).length)).toEqual([239, 255, 241, 251, 235]);
    for (const ex of [...train, ...test]) {
      expect([0, 1, 2, 3, 4]).toContain(ex.label);
      expect(ex.prompt.endsWith('\nAnswer:')).toBe(true);
    }
  });

  it("formats the first validation row with the reference's cqa zero-shot template", async () => {
    const [first] = await dataset({ source: data! }).load('test');
    expect(first.id).toBe('1afa02df02c908a558b4036e80242fac');
    expect(first.label).toBe(0);
    expect(first.prompt).toBe(
      'Answer the multiple choice question below by returning the answer label (A to E)\n' +
        '\n' +
        'Question: A revolving door is convenient for two direction travel, but it also serves as a security measure at a what?\n' +
        'Choices:\n' +
        'A) bank\n' +
        'B) library\n' +
        'C) department store\n' +
        'D) mall\n' +
        'E) new york\n' +
        'Answer:',
    );
  });
});

describe('CommonsenseQA rows', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-csqa-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  const row = (id: string, answerKey: string) => ({
    id,
    question: `Where is ${id}?`,
    question_concept: 'place',
    choices: { label: ['A', 'B', 'C', 'D', 'E'], text: ['here', 'there', 'nowhere', 'home', 'away'] },
    answerKey,
  });

  it('reads parquet in the hub layout (data/<split>-*.parquet, choices a struct of lists)', async () => {
    await fs.mkdir(path.join(dir, 'data'));
    await writeParquetRows(path.join(dir, 'data', 'validation-00000-of-00001.parquet'), [row('q1', 'E'), row('q2', 'B')]);
    const test = await dataset({ source: dir }).load('test');
    expect(test.map((e) => [e.id, e.label])).toEqual([
      ['q1', 4],
      ['q2', 1],
    ]);
    expect(test[0].prompt).toBe(
      'Answer the multiple choice question below by returning the answer label (A to E)\n\nQuestion: Where is q1?\nChoices:\nA) here\nB) there\nC) nowhere\nD) home\nE) away\nAnswer:',
    );
  });

  it("bad rows, and the hub's unlabelled test split, fail with file, line and field", async () => {
    const file = path.join(dir, 'test.jsonl');
    for (const [bad, message] of [
      [row('q3', ''), "field 'answerKey': empty: an unlabelled row"],
      [row('q3', 'F'), `field 'answerKey': expected one of A-E, got "F"`],
      [{ ...row('q3', 'A'), question: ['x'] }, "field 'question': expected a string, got an array (length 1)"],
    ] as const) {
      await fs.writeFile(file, `${JSON.stringify(row('q1', 'A'))}\n${JSON.stringify(bad)}\n`);
      await expect(dataset({ source: dir, splits: { test: 'test' } }).load('test')).rejects.toThrow(`${file} line 2: ${message}`);
    }
  });
});

describe('options', () => {
  it('defaults and strictness', () => {
    expect(CommonsenseQaOptions.parse({})).toEqual({ splits: { train: 'train', test: 'validation', anchor: 'train' }, subsetMode: 'sample', subsetSeed: 42, addSpace: false });
    expect(() => CommonsenseQaOptions.parse({ fewShot: true })).toThrow();
    expect(plugin).toMatchObject({ kind: 'dataset', name: 'commonsenseqa' });
  });
});
