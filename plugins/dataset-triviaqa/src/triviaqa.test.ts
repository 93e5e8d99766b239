import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng, type Logger, type OpenDataset, type RunContext } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';
import { findShared, startMockHub } from '@bayes-peft/fixtures';
import plugin, { TriviaQaOptions } from './index';

const quiet: Logger & { lines: string[] } = { lines: [], info: (m) => quiet.lines.push(m), warn: (m) => quiet.lines.push(`warning: ${m}`), debug() {} };

function makeCtx(hub: Partial<RunContext['hub']> = {}, specDir = process.cwd()): RunContext {
  return { seed: 1, rng: new Rng(1), log: quiet, specDir, hub: { offline: true, cacheDir: path.join(os.tmpdir(), 'bp-triviaqa-unused-cache'), endpoint: 'http://127.0.0.1:9', ...hub } };
}

function dataset(options: Record<string, unknown>, ctx: RunContext = makeCtx()): OpenDataset {
  return createRunSession({ context: ctx, dataset: { plugin, options: plugin.options.parse(options) } }).dataset() as OpenDataset;
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-triviaqa-'));
  try {
    await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

const row = (question: string, value: string, aliases: string[], extra: Record<string, unknown> = {}) => JSON.stringify({ question, answer: { value, aliases }, ...extra });

const data = findShared('data/triviaqa', 'TriviaQA tests over shared/data');
const d = data ? describe : describe.skip;

d('TriviaQA over shared/data (validation_subset.jsonl)', () => {
  // The shared file's name differs from the hub's split: the test role is mapped to it.
  const opts = () => ({ source: data!, splits: { test: 'validation_subset' } });

  it('3000 rows, every one with a prompt, normalised references and a training text', async () => {
    const test = await dataset(opts()).load('test');
    expect(test).toHaveLength(3000);
    expect(new Set(test.map((e) => e.id)).size).toBe(3000);
    // One assertion over all rows (3000 separate expect calls cost seconds).
    const bad = test.filter(
      (ex) =>
        ex.prompt !== `Answer the question below. Provide a concise answer. Question: ${ex.question} Answer:` ||
        ex.references.length === 0 ||
        ex.references.some((r) => !/^\S(.*\S)?$/.test(r) || r !== r.toLowerCase()) ||
        new Set(ex.references).size !== ex.references.length ||
        ex.trainText !== `${ex.prompt} ${ex.references[0]}`,
    );
    expect(bad).toEqual([]);
    expect(quiet.lines.join('\n')).toMatch(/test = split 'validation_subset': 3000 of 3000 examples/);
  });

  it('the first row: golden prompt, references and training text', async () => {
    const [first] = await dataset(opts()).load('test');
    expect(first.id).toBe('validation_subset-0');
    expect(first.prompt).toBe('Answer the question below. Provide a concise answer. Question: Brunswick, Lancastrian and Pearl Pickler are types of which vegetable? Answer:');
    // normalize(value) first, then each normalised alias once ("Onion" itself is an alias too).
    expect(first.references).toEqual([
      'onion',
      'onion skins',
      'allium angolense',
      'bulb onion',
      'allium nigritanum',
      'onion fruit',
      'kaanda',
      'allium salota',
      'pyaz',
      'dry onion',
      'allium cepa',
      'garden onion',
      'bulb onions',
      'allium aobanum',
      'onions',
      'onion set',
      'spanish onion',
    ]);
    expect(first.trainText).toBe('Answer the question below. Provide a concise answer. Question: Brunswick, Lancastrian and Pearl Pickler are types of which vegetable? Answer: onion');
    const [up] = await dataset({ ...opts(), template: 'up', aliases: false }).load('test');
    expect(up.prompt).toBe('Answer the question below. Question: Brunswick, Lancastrian and Pearl Pickler are types of which vegetable? Answer:');
    expect(up.references).toEqual(['onion']);
  });

  it("the answer '(a' normalises to '': its first non-empty alias is the primary, with a warning", async () => {
    quiet.lines.length = 0;
    const test = await dataset(opts()).load('test');
    const row = test[2102]; // line 2103
    expect(row.question).toBe('In the cartoon, what kind of bird is the roadrunner?');
    expect(row.references[0]).toBe('statically linked library');
    expect(row.references).not.toContain('');
    expect(quiet.lines.join('\n')).toMatch(/warning: triviaqa validation_subset: 1 answer\(s\) normalise to '' \(validation_subset-2102\)/);
    const [primaryOnly] = (await dataset({ ...opts(), aliases: false }).load('test')).slice(2102, 2103);
    expect(primaryOnly.references).toEqual(['statically linked library']);
  });

  it('subsets: first N in file order by default, or a seeded sample', async () => {
    const all = await dataset(opts()).load('test');
    const first = await dataset({ ...opts(), maxTestExamples: 5 }).load('test');
    expect(first).toEqual(all.slice(0, 5));
    const sample = await dataset({ ...opts(), maxTestExamples: 5, subsetMode: 'sample' }).load('test');
    expect(sample).toHaveLength(5);
    expect(await dataset({ ...opts(), maxTestExamples: 5, subsetMode: 'sample' }).load('test')).toEqual(sample);
    expect(sample.map((e) => e.id)).not.toEqual(first.map((e) => e.id));
    expect((await dataset({ ...opts(), maxTestExamples: 5, subsetMode: 'sample', subsetSeed: 1 }).load('test')).map((e) => e.id)).not.toEqual(sample.map((e) => e.id));
  });

  it('without the split mapping the folder has no validation file: the error says so', async () => {
    await expect(dataset({ source: data! }).load('test')).rejects.toThrow(/no files for split 'validation'.*validation_subset\.jsonl/);
  });
});

describe('TriviaQA bad input', () => {
  it('a bad row names the file, the line and the field', async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'validation.jsonl');
      const good = row('Q1?', 'One', ['One', '1']);
      await fs.writeFile(file, [good, good, JSON.stringify({ question: 'Q3?', answer: { value: 7, aliases: [] } })].join('\n'));
      await expect(dataset({ source: dir }).load('test')).rejects.toThrow(`${file} line 3: field 'answer.value': expected a string, got a number (7)`);
      await fs.writeFile(file, [good, JSON.stringify({ question: 'Q2?', answer: { value: 'x' } })].join('\n'));
      await expect(dataset({ source: dir }).load('test')).rejects.toThrow(/validation\.jsonl line 2: field 'answer\.aliases': missing/);
      await fs.writeFile(file, [good, row('Q2?', 'x', ['x', 3 as never])].join('\n'));
      await expect(dataset({ source: dir }).load('test')).rejects.toThrow(/line 2: field 'answer\.aliases\[1\]': expected a string, got a number \(3\)/);
      await fs.writeFile(file, [good, row('', 'x', ['x'])].join('\n'));
      await expect(dataset({ source: dir }).load('test')).rejects.toThrow(/line 2: field 'question': expected a non-empty string/);
      await fs.writeFile(file, [good, row('Q2?', 'The', ['A', '?'])].join('\n'));
      await expect(dataset({ source: dir }).load('test')).rejects.toThrow(/line 2: field 'answer\.value': "The" normalises to an empty string and no alias is usable \("A", "\?"\)/);
    });
  });

  it("an empty split is an error; the test split (answers '<unk>') is refused", async () => {
    await withTempDir(async (dir) => {
      await fs.writeFile(path.join(dir, 'validation.jsonl'), '\n');
      await expect(dataset({ source: dir }).load('test')).rejects.toThrow(/split 'validation' of config 'rc\.nocontext' from .* has no rows/);
      await fs.writeFile(path.join(dir, 'test.jsonl'), row('Q?', '<unk>', []) + '\n');
      await expect(dataset({ source: dir, splits: { test: 'test' } }).load('test')).rejects.toThrow(/split 'test', whose answers are all '<unk>'.*use 'validation'/);
      // A copy of the test split under another name is caught by its placeholder answers.
      await fs.writeFile(path.join(dir, 'hidden.jsonl'), row('Q?', '<unk>', []) + '\n');
      await expect(dataset({ source: dir, splits: { test: 'hidden' } }).load('test')).rejects.toThrow(/hidden\.jsonl line 1: field 'answer\.value': '<unk>': this is TriviaQA's test split/);
    });
  });
});

describe('TriviaQA from the hub (local hub, parquet as the hub serves it)', () => {
  it('reads mandarjoshi/trivia_qa rc.nocontext by default, ids from question_id', async () => {
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const S = (name: string) => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
    const schema = [
      { name: 'root', num_children: 3 },
      S('question'),
      S('question_id'),
      { name: 'answer', repetition_type: 'OPTIONAL', num_children: 2 },
      S('value'),
      { name: 'aliases', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      S('element'),
    ];
    const parquet = (ids: string[], value: (i: string) => string) =>
      new Uint8Array(
        parquetWriteBuffer({
          schema: schema as never,
          columnData: [
            { name: 'question', data: ids.map((i) => `Who is ${i}?`) },
            { name: 'question_id', data: ids },
            { name: 'answer', data: ids.map((i) => ({ value: value(i), aliases: [value(i), `The ${value(i)}`] })) },
          ],
        }),
      );
    const card =
      '---\nconfigs:\n- config_name: rc.nocontext\n  data_files:\n  - split: train\n    path: rc.nocontext/train-*\n  - split: validation\n    path: rc.nocontext/validation-*\n---\n';
    const hub = await startMockHub([
      {
        type: 'dataset',
        id: 'mandarjoshi/trivia_qa',
        revisions: {
          main: {
            files: {
              'README.md': card,
              'rc.nocontext/train-00000-of-00002.parquet': parquet(['tc_1', 'tc_2'], (i) => `Answer ${i}`),
              'rc.nocontext/train-00001-of-00002.parquet': parquet(['tc_3'], (i) => `Answer ${i}`),
              'rc.nocontext/validation-00000-of-00001.parquet': parquet(['tc_v'], () => 'Paris.'),
            },
          },
        },
      },
    ]);
    const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-triviaqa-hub-'));
    try {
      const ds = dataset({}, makeCtx({ offline: false, endpoint: hub.endpoint, cacheDir }));
      const train = await ds.load('train');
      expect(train.map((e) => e.id)).toEqual(['tc_1', 'tc_2', 'tc_3']);
      expect(train[2].references).toEqual(['answer tc3']);
      expect(train[2].trainText).toBe('Answer the question below. Provide a concise answer. Question: Who is tc_3? Answer: answer tc3');
      const [v] = await ds.load('test');
      expect(v).toEqual({
        id: 'tc_v',
        question: 'Who is tc_v?',
        prompt: 'Answer the question below. Provide a concise answer. Question: Who is tc_v? Answer:',
        references: ['paris'],
        trainText: 'Answer the question below. Provide a concise answer. Question: Who is tc_v? Answer: paris',
      });
    } finally {
      await hub.close();
      await fs.rm(cacheDir, { recursive: true, force: true });
    }
  });
});

describe('options', () => {
  it('defaults and strictness', () => {
    expect(TriviaQaOptions.parse({})).toEqual({
      config: 'rc.nocontext',
      splits: { train: 'train', test: 'validation', anchor: 'train' },
      template: 'dsc',
      aliases: true,
      subsetMode: 'first',
      subsetSeed: 42,
    });
    expect(() => TriviaQaOptions.parse({ template: 'chat' })).toThrow();
    expect(() => TriviaQaOptions.parse({ splits: { valid: 'x' } })).toThrow();
    expect(() => TriviaQaOptions.parse({ maxTestExamples: 0 })).toThrow();
    expect(plugin).toMatchObject({ kind: 'dataset', name: 'triviaqa', packageName: '@bayes-peft/dataset-triviaqa' });
  });
});
