import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { McqDataset } from '@bayes-peft/core';
import { findShared, writeParquetRows } from '@bayes-peft/fixtures';
import { instantiateDataset, localRunContext } from '@bayes-peft/mcq';
import plugin, { BoolqOptions, cutCodePoints } from './index';

const dataset = (options: Record<string, unknown>, ctx = localRunContext()) => instantiateDataset(plugin, options, ctx) as McqDataset;

const data = findShared('data/boolq', 'BoolQ tests over shared/data');
const d = data ? describe : describe.skip;

// The first validation row's passage up to the reference's cut, passage[:1024].
const FIRST_PASSAGE_1024 =
  'Ethanol fuel -- All biomass goes through at least some of these steps: it needs to be grown, collected, dried, fermented, distilled, and burned. ' +
  'All of these steps require resources and an infrastructure. The total amount of energy input into the process compared to the energy released by ' +
  "burning the resulting ethanol fuel is known as the energy balance (or ``energy returned on energy invested''). Figures compiled in a 2007 report by " +
  'National Geographic Magazine point to modest results for corn ethanol produced in the US: one unit of fossil-fuel energy is required to create 1.3 ' +
  'energy units from the resulting ethanol. The energy balance for sugarcane ethanol produced in Brazil is more favorable, with one unit of fossil-fuel ' +
  'energy required to create 8 from the ethanol. Energy balance estimates are not easily produced, thus numerous such reports have been generated that ' +
  'are contradictory. For instance, a separate survey reports that production of ethanol from sugarcane, which requires a tropical climate to gro';

d('BoolQ over shared/data', () => {
  it('row counts and label ranges of validation; the reference label order by default', async () => {
    const ds = dataset({ source: data! });
    expect(ds.name).toBe('boolq');
    expect(ds.labels).toEqual(['True', 'False']);
    const test = await ds.load('test');
    expect(test).toHaveLength(3270);
    expect(test.filter((e) => e.label === 1)).toHaveLength(2033); // answer true
    expect(test.filter((e) => e.label === 0)).toHaveLength(1237);
    for (const ex of test) expect(ex.prompt.endsWith('\nAnswer (true or false):')).toBe(true);
  });

  it('formats the first validation row exactly as the reference does (passage cut to 1024 characters)', async () => {
    expect(FIRST_PASSAGE_1024).toHaveLength(1024);
    const [first] = await dataset({ source: data!, maxTestExamples: 1, subsetMode: 'first' }).load('test');
    expect(first.id).toBe('validation-0');
    expect(first.label).toBe(0); // answer false: class 0, trained on the reference's label 0, 'True'
    expect(first.prompt).toBe(
      "Read the passage below and answer the question with the words 'true' or 'false'.\n" +
        '\n' +
        `Passage: ${FIRST_PASSAGE_1024}\n` +
        'Question: does ethanol take more energy make that produces\n' +
        'Answer (true or false):',
    );
    const [whole] = await dataset({ source: data!, maxTestExamples: 1, subsetMode: 'first', passageMaxChars: null }).load('test');
    expect(whole.prompt).toContain(`${FIRST_PASSAGE_1024}w productively, returns from 8 to 9 units`);
    expect(whole.prompt).toContain('much less petroleum than producing gasoline.\nQuestion: does ethanol');
  });

  it('compat.invertTargets: false puts each answer on its own word, keeping class = int(answer)', async () => {
    const head = { source: data!, maxTestExamples: 50, subsetMode: 'first' };
    const reference = dataset(head);
    const fixed = dataset({ ...head, compat: { invertTargets: false }, addSpace: true });
    expect(fixed.labels).toEqual([' False', ' True']);
    const [a, b] = [await reference.load('test'), await fixed.load('test')];
    expect(b.map((e) => e.label)).toEqual(a.map((e) => e.label));
    // The first row's answer is false: the reference trains it on 'True', the fixed order on ' False'.
    expect(reference.labels[a[0].label]).toBe('True');
    expect(fixed.labels[b[0].label]).toBe(' False');
    // A row whose answer is true is trained on 'False' by the reference, on ' True' when fixed.
    const t = b.findIndex((e) => e.label === 1);
    expect([reference.labels[a[t].label], fixed.labels[b[t].label]]).toEqual(['False', ' True']);
  });
});

describe('BoolQ rows', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-boolq-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('reads parquet as the hub serves it (answer boolean), from data/<split>-*.parquet', async () => {
    await fs.mkdir(path.join(dir, 'data'));
    await writeParquetRows(path.join(dir, 'data', 'train-00000-of-00001.parquet'), [
      { question: 'is it q1', answer: true, passage: 'Passage one.' },
      { question: 'is it q2', answer: false, passage: 'Passage two.' },
    ]);
    const train = await dataset({ source: dir }).load('train');
    expect(train.map((e) => [e.id, e.label])).toEqual([
      ['train-0', 1],
      ['train-1', 0],
    ]);
    expect(train[0].prompt).toBe("Read the passage below and answer the question with the words 'true' or 'false'.\n\nPassage: Passage one.\nQuestion: is it q1\nAnswer (true or false):");
  });

  it('bad rows fail with file, line and field; CSV booleans are read', async () => {
    const file = path.join(dir, 'validation.jsonl');
    const ok = JSON.stringify({ question: 'q', answer: true, passage: 'p' });
    for (const [bad, message] of [
      [{ question: 'q', answer: 'yes', passage: 'p' }, `field 'answer': expected a boolean, got a string ("yes")`],
      [{ question: 'q', answer: true }, "field 'passage': missing (the row has question, answer)"],
    ] as const) {
      await fs.writeFile(file, `${ok}\n${JSON.stringify(bad)}\n`);
      await expect(dataset({ source: dir }).load('test')).rejects.toThrow(`${file} line 2: ${message}`);
    }
    await fs.rm(file);
    await fs.writeFile(path.join(dir, 'validation.csv'), 'question,answer,passage\nq1,False,p1\nq2,true,p2\n');
    expect((await dataset({ source: dir }).load('test')).map((e) => e.label)).toEqual([0, 1]);
  });

  it('cuts passages by code points, as Python slices', () => {
    expect(cutCodePoints('ab😀cd', 3)).toBe('ab😀');
    expect(cutCodePoints('abc', 3)).toBe('abc');
    expect(cutCodePoints('abcdef', null)).toBe('abcdef');
  });
});

describe('options', () => {
  it('defaults and strictness', () => {
    expect(BoolqOptions.parse({})).toEqual({
      splits: { train: 'train', test: 'validation', anchor: 'train' },
      subsetMode: 'sample',
      subsetSeed: 42,
      addSpace: false,
      passageMaxChars: 1024,
      compat: { invertTargets: true },
    });
    expect(() => BoolqOptions.parse({ passageMaxChars: 0 })).toThrow();
    expect(() => BoolqOptions.parse({ compat: { invert: true } })).toThrow();
    expect(plugin).toMatchObject({ kind: 'dataset', name: 'boolq' });
  });
});
