import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng, type Logger, type McqDataset, type RunContext } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';
import { findShared, startMockHub } from '@bayes-peft/fixtures';
import plugin, { arcClass, ArcOptions } from './index';

const quiet: Logger & { lines: string[] } = { lines: [], info: (m) => quiet.lines.push(m), warn: (m) => quiet.lines.push(m), debug() {} };

function makeCtx(hub: Partial<RunContext['hub']> = {}, specDir = process.cwd()): RunContext {
  return { seed: 1, rng: new Rng(1), log: quiet, specDir, hub: { offline: true, cacheDir: path.join(os.tmpdir(), 'bp-arc-unused-cache'), endpoint: 'http://127.0.0.1:9', ...hub } };
}

function dataset(options: Record<string, unknown>, ctx: RunContext = makeCtx()): McqDataset {
  return createRunSession({ context: ctx, dataset: { plugin, options: plugin.options.parse(options) } }).dataset() as McqDataset;
}

const data = findShared('data', 'ARC tests over shared/data');
const d = data ? describe : describe.skip;

d('ARC over shared/data', () => {
  const challenge = () => path.join(data!, 'arc_challenge');
  const easy = () => path.join(data!, 'arc_easy');
  // shared/ has the test and validation splits only: the "train" role reads the test split here.
  const splits = { train: 'test', test: 'validation', anchor: 'test' };

  it('row counts and label ranges of both subsets', async () => {
    for (const [source, subset, nTest, nVal] of [
      [challenge(), 'ARC-Challenge', 1172, 299],
      [easy(), 'ARC-Easy', 2376, 570],
    ] as const) {
      const ds = dataset({ subset, source, splits });
      expect(ds.name).toBe(subset);
      expect(ds.labels).toEqual(['A', 'B', 'C', 'D', 'E']);
      const train = await ds.load('train');
      const test = await ds.load('test');
      expect(train).toHaveLength(nTest);
      expect(test).toHaveLength(nVal);
      for (const ex of [...train, ...test]) {
        expect(Number.isInteger(ex.label)).toBe(true);
        expect(ex.label).toBeGreaterThanOrEqual(0);
        expect(ex.label).toBeLessThan(5);
      }
      expect(new Set(test.map((e) => e.id)).size).toBe(nVal);
      for (const ex of test) expect(ex.prompt.endsWith('\nAnswer:')).toBe(true);
    }
  });

  it('formats the first ARC-Challenge validation row exactly as the reference does', async () => {
    const [first] = await dataset({ source: challenge(), splits }).load('test');
    expect(first.id).toBe('Mercury_SC_407695');
    expect(first.label).toBe(3);
    // The reference's template (docs/methods.md, 'Multiple-choice prompts and targets') with the reference's swapped "{text}) {label}" choices.
    expect(first.prompt).toBe(
      'Return the label of the correct answer for the question below.\n' +
        '\n' +
        'Question: Juan and LaKeisha roll a few objects down a ramp. They want to see which object rolls the farthest. What should they do so they can repeat their investigation?\n' +
        'Choices:\n' +
        'Put the objects in groups.) A\n' +
        'Change the height of the ramp.) B\n' +
        'Choose different objects to roll.) C\n' +
        'Record the details of the investigation.) D\n' +
        'Answer:',
    );
    const [fixed] = await dataset({ source: challenge(), splits, compat: { swapChoiceFormat: false } }).load('test');
    expect(fixed.prompt).toBe(
      'Return the label of the correct answer for the question below.\n\n' +
        'Question: Juan and LaKeisha roll a few objects down a ramp. They want to see which object rolls the farthest. What should they do so they can repeat their investigation?\n' +
        'Choices:\nA) Put the objects in groups.\nB) Change the height of the ramp.\nC) Choose different objects to roll.\nD) Record the details of the investigation.\nAnswer:',
    );
  });

  it('numeric answer keys: the prompt shows the digits, the class is int(key) - 1', async () => {
    const test = await dataset({ source: challenge(), splits }).load('test');
    const row = test.find((e) => e.id === 'NYSEDREGENTS_2014_8_38')!;
    expect(row.label).toBe(0);
    expect(row.prompt).toContain('\nChoices:\na definite shape and a definite volume) 1\na definite shape, but no definite volume) 2\n');
    const numeric = test.filter((e) => /\) 1\n/.test(e.prompt));
    expect(numeric.length).toBe(4); // rows labelled 1-4 in ARC-Challenge validation
    expect([arcClass('A'), arcClass('E'), arcClass('1'), arcClass('4')]).toEqual([0, 4, 0, 3]);
  });

  it('subsets: seeded samples are reproducible, first-N is file order, the anchor is a prefix of train', async () => {
    const opts = { source: easy(), splits, maxTrainExamples: 40, maxAnchorExamples: 10, maxTestExamples: 25 };
    const a = dataset(opts);
    const train = await a.load('train');
    const anchor = await a.load('anchor');
    expect(train).toHaveLength(40);
    expect(anchor).toEqual(train.slice(0, 10));
    expect(await dataset(opts).load('train')).toEqual(train);
    expect((await dataset({ ...opts, subsetSeed: 7 }).load('train')).map((e) => e.id)).not.toEqual(train.map((e) => e.id));
    const first = await dataset({ ...opts, subsetMode: 'first' }).load('test');
    expect(first.map((e) => e.id)).toEqual((await dataset({ source: easy(), splits }).load('test')).slice(0, 25).map((e) => e.id));
  });

  it('a bad row fails with its file, line and field', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-arc-bad-'));
    try {
      const lines = readFileSync(path.join(challenge(), 'validation.jsonl'), 'utf8').split('\n').slice(0, 5);
      const third = JSON.parse(lines[2]);
      lines[2] = JSON.stringify({ ...third, answerKey: null });
      await fs.writeFile(path.join(dir, 'validation.jsonl'), lines.join('\n'));
      const err = await dataset({ source: dir }).load('test').catch((e) => e);
      expect(err.message).toBe(`${path.join(dir, 'validation.jsonl')} line 3: field 'answerKey': expected a string, got null`);
      lines[2] = JSON.stringify({ ...third, choices: { text: ['a', 'b'], label: ['A', 'B', 'C'] } });
      await fs.writeFile(path.join(dir, 'validation.jsonl'), lines.join('\n'));
      await expect(dataset({ source: dir }).load('test')).rejects.toThrow(/validation\.jsonl line 3: field 'choices': choices\.text has 2 items but choices\.label has 3/);
      lines[2] = JSON.stringify({ ...third, answerKey: 'E' });
      await fs.writeFile(path.join(dir, 'validation.jsonl'), lines.join('\n'));
      await expect(dataset({ source: dir }).load('test')).rejects.toThrow(/line 3: field 'answerKey': 'E' is not one of the choice labels \(A, B, C, D\)/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('relative sources resolve against the spec folder', async () => {
    const ds = dataset({ source: 'arc_easy', splits }, makeCtx({}, data!));
    expect(await ds.load('test')).toHaveLength(570);
  });
});

describe('ARC from the hub (local hub, parquet as the hub serves it)', () => {
  it('loads allenai/ai2_arc by default through the cache, then offline', async () => {
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const S = (name: string) => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
    const list = (name: string) => [{ name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 }, { name: 'list', repetition_type: 'REPEATED', num_children: 1 }, S('element')];
    const schema = [{ name: 'root', num_children: 4 }, S('id'), S('question'), { name: 'choices', repetition_type: 'OPTIONAL', num_children: 2 }, ...list('text'), ...list('label'), S('answerKey')];
    const parquet = (ids: string[]) =>
      new Uint8Array(
        parquetWriteBuffer({
          schema: schema as never,
          columnData: [
            { name: 'id', data: ids },
            { name: 'question', data: ids.map((i) => `Question ${i}?`) },
            { name: 'choices', data: ids.map(() => ({ text: ['yes', 'no', 'maybe'], label: ['A', 'B', 'C'] })) },
            { name: 'answerKey', data: ids.map((_, k) => 'ABC'[k % 3]) },
          ],
        }),
      );
    const card = '---\nconfigs:\n- config_name: ARC-Challenge\n  data_files:\n  - split: train\n    path: ARC-Challenge/train-*\n  - split: validation\n    path: ARC-Challenge/validation-*\n---\n';
    const hub = await startMockHub([
      {
        type: 'dataset',
        id: 'allenai/ai2_arc',
        revisions: { main: { files: { 'README.md': card, 'ARC-Challenge/train-00000-of-00001.parquet': parquet(['t1', 't2', 't3']), 'ARC-Challenge/validation-00000-of-00001.parquet': parquet(['v1']) } } },
      },
    ]);
    const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-arc-hub-'));
    try {
      const ds = dataset({ addSpace: true }, makeCtx({ offline: false, endpoint: hub.endpoint, cacheDir }));
      expect(ds.labels).toEqual([' A', ' B', ' C', ' D', ' E']);
      const train = await ds.load('train');
      expect(train.map((e) => [e.id, e.label])).toEqual([
        ['t1', 0],
        ['t2', 1],
        ['t3', 2],
      ]);
      expect(train[0].prompt).toBe('Return the label of the correct answer for the question below.\n\nQuestion: Question t1?\nChoices:\nyes) A\nno) B\nmaybe) C\nAnswer:');
      expect((await ds.load('test')).map((e) => e.id)).toEqual(['v1']);
      await hub.close();
      const offline = dataset({}, makeCtx({ offline: true, cacheDir }));
      expect((await offline.load('test')).map((e) => e.id)).toEqual(['v1']);
      expect(await offline.load('train')).toHaveLength(3);
      await expect(dataset({ subset: 'ARC-Easy' }, makeCtx({ offline: true, cacheDir })).load('test')).rejects.toThrow(/offline mode .*ARC-Easy/);
    } finally {
      await hub.close().catch(() => {});
      await fs.rm(cacheDir, { recursive: true, force: true });
    }
  });
});

describe('options', () => {
  it('defaults and strictness', () => {
    expect(ArcOptions.parse({})).toEqual({
      subset: 'ARC-Challenge',
      splits: { train: 'train', test: 'validation', anchor: 'train' },
      subsetMode: 'sample',
      subsetSeed: 42,
      addSpace: false,
      compat: { swapChoiceFormat: true },
    });
    expect(() => ArcOptions.parse({ subset: 'ARC-Hard' })).toThrow();
    expect(() => ArcOptions.parse({ compat: { swap: true } })).toThrow();
    expect(() => ArcOptions.parse({ maxTrainExamples: 0 })).toThrow();
    expect(plugin).toMatchObject({ kind: 'dataset', name: 'arc' });
  });
});
