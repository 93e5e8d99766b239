import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type McqDataset } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';
import { getString, type DataRow } from '@bayes-peft/data';
import { z } from 'zod';
import { indexAnswer } from './answers';
import { renderChoices } from './choices';
import { rowId, type McqDefinition } from './definition';
import { instantiateDataset } from './instantiate';
import { localRunContext } from './local-context';
import { mcqOptionFields, REFERENCE_SPLITS } from './options';
import { defineMcqDatasetPlugin } from './plugin';
import { fillTemplate, RETURN_LABEL_TEMPLATE } from './template';

// A two-choice dataset in the shape of the real plugins, over files a test writes.
const Options = z.object({ ...mcqOptionFields({ repo: 'someone/pairs', splits: REFERENCE_SPLITS, labels: ['A', 'B'] }), onlyTopic: z.string().optional() }).strict();
const define = (o: z.output<typeof Options>): McqDefinition => ({
  name: 'pairs',
  labels: ['A', 'B'],
  repo: 'someone/pairs',
  subsetKey: 'pairs',
  format: (row: DataRow, at) => ({
    id: rowId(row, at, 'id'),
    prompt: fillTemplate(RETURN_LABEL_TEMPLATE, { question: getString(row, 'q'), choices: renderChoices([getString(row, 'a'), getString(row, 'b')], ['A', 'B']) }),
    label: indexAnswer(row, 'answer', { count: 2 }),
  }),
  keep: o.onlyTopic ? { test: (row) => row.data.topic === o.onlyTopic, what: `rows of topic ${o.onlyTopic}` } : undefined,
  splitFallbacks: (split) => (split === 'train' ? ['train_small'] : []),
});
const plugin = defineMcqDatasetPlugin({ name: 'pairs', version: '0.0.0', packageName: 'pairs', description: 'test pairs', options: Options, define });

const row = (i: number, extra: Record<string, unknown> = {}) => JSON.stringify({ q: `Question ${i}?`, a: `yes ${i}`, b: `no ${i}`, answer: i % 2, topic: i < 5 ? 'x' : 'y', ...extra });
const rows = (n: number, from = 0) => Array.from({ length: n }, (_, i) => row(from + i)).join('\n');

describe('split loading', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-mcq-'));
    await fs.writeFile(path.join(dir, 'train_small.jsonl'), rows(20));
    await fs.writeFile(path.join(dir, 'validation.jsonl'), rows(10, 100));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  const ds = (options: Record<string, unknown>, ctx = localRunContext()) => instantiateDataset(plugin, { source: dir, ...options }, ctx) as McqDataset;

  it('formats every row; ids default to <split>-<index>; logs what it read', async () => {
    const ctx = localRunContext();
    const test = await ds({}, ctx).load('test');
    expect(test).toHaveLength(10);
    expect(test[0]).toEqual({ id: 'validation-0', label: 0, prompt: 'Return the label of the correct answer for the question below.\n\nQuestion: Question 100?\nChoices:\nA) yes 100\nB) no 100\nAnswer:' });
    expect(ctx.lines).toEqual([`dataset: pairs test = split 'validation': 10 of 10 examples (${path.join(dir, 'validation.jsonl')})`]);
  });

  it('falls back to the next split name only when the split is absent', async () => {
    const ctx = localRunContext();
    expect(await ds({}, ctx).load('train')).toHaveLength(20);
    expect(ctx.lines[0]).toMatch(/train = split 'train_small': 20 of 20/);
    await expect(ds({ splits: { test: 'nope' } }).load('test')).rejects.toThrow(/no files for split 'nope'/);
  });

  it('subsets: seeded and reproducible, first-N in file order, anchor a prefix of train', async () => {
    const opts = { maxTrainExamples: 6, maxAnchorExamples: 3 };
    const train = await ds(opts).load('train');
    expect(train).toHaveLength(6);
    expect(await ds(opts).load('anchor')).toEqual(train.slice(0, 3));
    expect(await ds(opts).load('train')).toEqual(train);
    expect(train.map((e) => e.id)).not.toEqual((await ds({ ...opts, subsetSeed: 9 }).load('train')).map((e) => e.id));
    expect((await ds({ ...opts, subsetMode: 'first' }).load('train')).map((e) => e.id)).toEqual(['train_small-0', 'train_small-1', 'train_small-2', 'train_small-3', 'train_small-4', 'train_small-5']);
  });

  it('keeps only the rows the definition selects, with ids from the whole split', async () => {
    const kept = await ds({ onlyTopic: 'y', splits: { test: 'train_small' } }).load('test');
    expect(kept.map((e) => e.id)).toEqual(Array.from({ length: 15 }, (_, i) => `train_small-${i + 5}`));
    await expect(ds({ onlyTopic: 'z' }).load('test')).rejects.toThrow(/split 'validation' of pairs \(rows of topic z\) has no rows \(files: .*validation\.jsonl\)/);
  });

  it('a bad row fails with file, line and field, and is never skipped by a fallback', async () => {
    const bad = path.join(dir, 'bad');
    await fs.mkdir(bad);
    await fs.writeFile(path.join(bad, 'train.jsonl'), `${rows(2)}\n${row(2, { answer: 'x' })}\n`);
    await fs.writeFile(path.join(bad, 'train_small.jsonl'), rows(2));
    await expect(ds({ source: bad }).load('train')).rejects.toThrow(`${path.join(bad, 'train.jsonl')} line 3: field 'answer': expected an integer in [0, 1], got a string ("x")`);
    await fs.writeFile(path.join(bad, 'validation.jsonl'), '');
    await expect(ds({ source: bad }).load('test')).rejects.toThrow(/has no rows/);
  });

  it('one dataset per run container; the labels take addSpace', () => {
    const child = createRunSession({ context: localRunContext(), dataset: { plugin, options: plugin.options.parse({ addSpace: true }) } });
    const a = child.dataset() as McqDataset;
    expect(child.dataset()).toBe(a);
    expect(a.labels).toEqual([' A', ' B']);
    expect(a.name).toBe('pairs');
  });
});

describe('shared options', () => {
  it('defaults, descriptions and strictness', () => {
    expect(Options.parse({})).toEqual({ splits: { train: 'train', test: 'validation', anchor: 'train' }, subsetMode: 'sample', subsetSeed: 42, addSpace: false });
    expect(Options.shape.addSpace.description).toBe("target tokens ' A'/' B' instead of 'A'/'B' (the reference's --add-space)");
    expect(() => Options.parse({ splits: { dev: 'x' } })).toThrow();
    expect(() => Options.parse({ maxTestExamples: 0 })).toThrow();
    expect(() => Options.parse({ subsetMode: 'random' })).toThrow();
  });
});
