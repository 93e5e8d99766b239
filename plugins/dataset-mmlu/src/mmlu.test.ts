import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { McqDataset } from '@bayes-peft/core';
import { parquetFromRows, startMockHub, writeParquetRows } from '@bayes-peft/fixtures';
import { instantiateDataset, localRunContext } from '@bayes-peft/mcq';
import plugin, { MMLU_GROUPS, MMLU_SUBJECTS, MmluOptions } from './index';

const dataset = (options: Record<string, unknown>, ctx = localRunContext()) => instantiateDataset(plugin, options, ctx) as McqDataset;

// cais/mmlu 'all' rows (question, subject, choices, answer as a class index) of a few subjects.
const ROWS = [
  { question: 'Which gate outputs 1 only when both inputs are 1?', subject: 'electrical_engineering', choices: ['OR', 'AND', 'XOR', 'NOR'], answer: 1 },
  { question: 'What is the SI unit of force?', subject: 'college_physics', choices: ['Joule', 'Watt', 'Newton', 'Pascal'], answer: 2 },
  { question: 'Big-O of binary search?', subject: 'college_computer_science', choices: ['O(1)', 'O(log n)', 'O(n)', 'O(n log n)'], answer: 1 },
  { question: 'Which bone is in the thigh?', subject: 'anatomy', choices: ['Femur', 'Tibia', 'Ulna', 'Radius'], answer: 0 },
  { question: 'A buffer overflow is a kind of?', subject: 'computer_security', choices: ['memory bug', 'network', 'cipher', 'firewall'], answer: 0 },
  { question: 'Overfitting means?', subject: 'machine_learning', choices: ['low variance', 'high bias', 'fits noise', 'underfits'], answer: 2 },
  { question: 'Which virus causes AIDS?', subject: 'virology', choices: ['HPV', 'HIV', 'HBV', 'EBV'], answer: 1 },
];

describe('MMLU from a local file in the hub schema', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-mmlu-'));
    await fs.mkdir(path.join(dir, 'all'));
    await writeParquetRows(path.join(dir, 'all', 'test-00000-of-00001.parquet'), ROWS);
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it("keeps the group's subjects from the 'all' test split; train and test both read it, as the reference does", async () => {
    const ctx = localRunContext();
    const cs = dataset({ source: dir, group: 'cs' }, ctx);
    expect(cs.name).toBe('MMLU-cs');
    expect(cs.labels).toEqual(['A', 'B', 'C', 'D']);
    const test = await cs.load('test');
    const train = await cs.load('train');
    expect(test.map((e) => [e.id, e.label])).toEqual([
      ['test-2', 1],
      ['test-4', 0],
      ['test-5', 2],
    ]);
    expect(train).toEqual(test);
    expect(ctx.lines[0]).toBe(`dataset: MMLU-cs test = split 'test': 3 of 3 examples (${path.join(dir, 'all', 'test-00000-of-00001.parquet')})`);
    expect((await dataset({ source: dir, group: 'health' }).load('test')).map((e) => e.id)).toEqual(['test-3', 'test-6']);
    expect((await dataset({ source: dir, group: 'phy' }).load('test')).map((e) => e.id)).toEqual(['test-1']);
  });

  it("formats a row with the reference's template, choices in A-D order", async () => {
    const [eng] = await dataset({ source: dir, group: 'eng' }).load('test');
    expect(eng.label).toBe(1);
    expect(eng.prompt).toBe(
      'Return the label of the correct answer for the question below.\n' +
        '\n' +
        'Question: Which gate outputs 1 only when both inputs are 1?\n' +
        'Choices:\n' +
        'A) OR\n' +
        'B) AND\n' +
        'C) XOR\n' +
        'D) NOR\n' +
        'Answer:',
    );
  });

  it('an explicit subjects list; a group with no rows in the split is an error', async () => {
    const ds = dataset({ source: dir, subjects: ['virology', 'college_physics'] });
    expect(ds.name).toBe('MMLU-virology+college_physics');
    expect((await ds.load('test')).map((e) => e.id)).toEqual(['test-1', 'test-6']);
    await expect(dataset({ source: dir, group: 'law' }).load('test')).rejects.toThrow(
      /split 'test' of config 'all' of MMLU-law \(rows of subjects international_law, jurisprudence, professional_law\) has no rows/,
    );
  });

  it('other splits on request (dev), subsets as every MCQ plugin', async () => {
    await fs.writeFile(path.join(dir, 'all', 'dev-00000-of-00001.jsonl'), ROWS.map((r) => JSON.stringify(r)).join('\n'));
    const ds = dataset({ source: dir, group: 'cs', splits: { train: 'dev' }, maxTestExamples: 2, subsetMode: 'first' });
    expect((await ds.load('train')).map((e) => e.id)).toEqual(['dev-2', 'dev-4', 'dev-5']);
    expect((await ds.load('test')).map((e) => e.id)).toEqual(['test-2', 'test-4']);
  });

  it('bad rows fail with file, line and field (also outside the group: the subject is read first)', async () => {
    const bad = path.join(dir, 'bad.jsonl');
    for (const [row, message] of [
      [{ ...ROWS[2], answer: 4 }, "field 'answer': expected an integer in [0, 3], got 4"],
      [{ ...ROWS[2], choices: ['a', 'b', 'c', 'd', 'e'] }, "field 'choices': expected at most 4 choices (labels A-D), got 5"],
      [{ question: 'q', choices: ['a', 'b'], answer: 0 }, "field 'subject': missing (the row has question, choices, answer)"],
    ] as const) {
      await fs.writeFile(bad, `${JSON.stringify(ROWS[0])}\n${JSON.stringify(row)}\n`);
      await expect(dataset({ source: bad, group: 'cs' }).load('test')).rejects.toThrow(`${bad} line 2: ${message}`);
    }
  });
});

describe('MMLU from the hub (local hub)', () => {
  it("reads cais/mmlu 'all' test by default and filters it by subject", async () => {
    const card = '---\nconfigs:\n- config_name: all\n  data_files:\n  - split: test\n    path: all/test-*\n  - split: dev\n    path: all/dev-*\n---\n';
    const hub = await startMockHub([
      { type: 'dataset', id: 'cais/mmlu', revisions: { main: { files: { 'README.md': card, 'all/test-00000-of-00001.parquet': await parquetFromRows(ROWS), 'all/dev-00000-of-00001.parquet': await parquetFromRows(ROWS.slice(0, 2)) } } } },
    ]);
    const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-mmlu-hub-'));
    try {
      const ctx = localRunContext({ hub: { offline: false, endpoint: hub.endpoint, cacheDir } });
      const ds = dataset({ group: 'health' }, ctx);
      expect((await ds.load('test')).map((e) => [e.id, e.label])).toEqual([
        ['test-3', 0],
        ['test-6', 1],
      ]);
      expect(await ds.load('train')).toEqual(await ds.load('test'));
    } finally {
      await hub.close();
      await fs.rm(cacheDir, { recursive: true, force: true });
    }
  });
});

describe('options', () => {
  it('a group or a subject list, not both, not neither; defaults as the reference', () => {
    expect(MmluOptions.parse({ group: 'bio' })).toEqual({
      group: 'bio',
      config: 'all',
      splits: { train: 'test', test: 'test', anchor: 'test' },
      subsetMode: 'sample',
      subsetSeed: 42,
      addSpace: false,
    });
    expect(MmluOptions.safeParse({}).error?.issues).toEqual([expect.objectContaining({ path: ['group'], message: 'choose a subject group (cs, eng, law, health, chem, bio, phy) or give a subjects list' })]);
    expect(MmluOptions.safeParse({ group: 'cs', subjects: ['anatomy'] }).error?.issues).toEqual([expect.objectContaining({ path: ['subjects'], message: 'give either group or subjects, not both' })]);
    expect(MmluOptions.safeParse({ subjects: ['anatomy', 'anatomyy'] }).error?.issues).toEqual([expect.objectContaining({ path: ['subjects', 1], message: expect.stringMatching(/^not a cais\/mmlu subject: "anatomyy"/) })]);
    expect(() => MmluOptions.parse({ group: 'math' })).toThrow();
    expect(MMLU_SUBJECTS).toHaveLength(57);
    for (const subjects of Object.values(MMLU_GROUPS)) for (const s of subjects) expect(MMLU_SUBJECTS).toContain(s);
    expect(plugin).toMatchObject({ kind: 'dataset', name: 'mmlu' });
  });
});
