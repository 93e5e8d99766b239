import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { McqDataset } from '@bayes-peft/core';
import { findShared, writeParquetRows } from '@bayes-peft/fixtures';
import { instantiateDataset, localRunContext } from '@bayes-peft/mcq';
import plugin, { OpenBookQaOptions } from './index';

const dataset = (options: Record<string, unknown>, ctx = localRunContext()) => instantiateDataset(plugin, options, ctx) as McqDataset;

const data = findShared('data/openbookqa', 'OpenBookQA tests over shared/data');
const d = data ? describe : describe.skip;

d('OpenBookQA over shared/data', () => {
  it('row counts and label ranges of train, validation and test', async () => {
    for (const [split, n] of [
      ['train', 4956],
      ['validation', 500],
      ['test', 500],
    ] as const) {
      const ds = dataset({ source: data!, splits: { test: split } });
      expect(ds.name).toBe('obqa');
      expect(ds.labels).toEqual(['A', 'B', 'C', 'D']);
      const examples = await ds.load('test');
      expect(examples).toHaveLength(n);
      expect(new Set(examples.map((e) => e.id)).size).toBe(n);
      for (const ex of examples) {
        expect([0, 1, 2, 3]).toContain(ex.label);
        expect(ex.prompt.endsWith('\nAnswer:')).toBe(true);
      }
    }
    // The default roles: train -> train, test -> validation (the reference's testing-set val).
    expect(await dataset({ source: data! }).load('train')).toHaveLength(4956);
  });

  it('formats the first validation row exactly as the reference does, and fixed with compat.referencePrompt: false', async () => {
    const [first] = await dataset({ source: data! }).load('test');
    expect(first.id).toBe('8-376');
    expect(first.label).toBe(0);
    // docs/reference-differences.md row 55: "Chioces:" and the swapped "{text}) {label}" choices.
    expect(first.prompt).toBe(
      'Return the label of the correct answer for the question below.\n' +
        '\n' +
        'Question: Frilled sharks and angler fish live far beneath the surface of the ocean, which is why they are known as\n' +
        'Chioces:\n' +
        'Deep sea animals) A\n' +
        'fish) B\n' +
        'Long Sea Fish) C\n' +
        'Far Sea Animals) D\n' +
        'Answer:',
    );
    const [fixed] = await dataset({ source: data!, compat: { referencePrompt: false } }).load('test');
    expect(fixed.prompt).toBe(
      'Return the label of the correct answer for the question below.\n\n' +
        'Question: Frilled sharks and angler fish live far beneath the surface of the ocean, which is why they are known as\n' +
        'Choices:\nA) Deep sea animals\nB) fish\nC) Long Sea Fish\nD) Far Sea Animals\nAnswer:',
    );
  });

  it('a bad row fails with its file, line and field', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-obqa-bad-'));
    try {
      const lines = readFileSync(path.join(data!, 'validation.jsonl'), 'utf8').split('\n').slice(0, 4);
      const row = JSON.parse(lines[1]);
      const file = path.join(dir, 'validation.jsonl');
      for (const [bad, message] of [
        [{ ...row, question_stem: 7 }, "field 'question_stem': expected a string, got a number (7)"],
        [{ ...row, answerKey: 'E' }, `field 'answerKey': expected one of A-D, got "E"`],
        [{ ...row, choices: { text: ['a', 'b'], label: ['A', 'B'] }, answerKey: 'C' }, "field 'answerKey': 'C' is not one of the choice labels (A, B)"],
        [{ ...row, choices: { text: ['a', 'b', 'c', 'd', 'e'], label: ['A', 'B', 'C', 'D', 'E'] } }, "field 'choices.text': expected at most 4 choices (labels A-D), got 5"],
      ] as const) {
        await fs.writeFile(file, [lines[0], JSON.stringify(bad), lines[2]].join('\n'));
        await expect(dataset({ source: dir }).load('test')).rejects.toThrow(`${file} line 2: ${message}`);
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('OpenBookQA from parquet in the hub layout', () => {
  it('reads <config>/<split>-*.parquet written by hyparquet-writer', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-obqa-pq-'));
    try {
      await fs.mkdir(path.join(dir, 'main'));
      const rows = ['7-1', '7-2', '7-3'].map((id, k) => ({ id, question_stem: `Stem ${id}`, choices: { text: ['w', 'x', 'y', 'z'], label: ['A', 'B', 'C', 'D'] }, answerKey: 'ABCD'[k] }));
      await writeParquetRows(path.join(dir, 'main', 'validation-00000-of-00001.parquet'), rows);
      await writeParquetRows(path.join(dir, 'main', 'train-00000-of-00001.parquet'), rows.slice(0, 1));
      const ds = dataset({ source: dir, addSpace: true });
      expect(ds.labels).toEqual([' A', ' B', ' C', ' D']);
      const test = await ds.load('test');
      expect(test.map((e) => [e.id, e.label])).toEqual([
        ['7-1', 0],
        ['7-2', 1],
        ['7-3', 2],
      ]);
      expect(test[0].prompt).toBe('Return the label of the correct answer for the question below.\n\nQuestion: Stem 7-1\nChioces:\nw) A\nx) B\ny) C\nz) D\nAnswer:');
      expect(await ds.load('train')).toHaveLength(1);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('options', () => {
  it('defaults and strictness', () => {
    expect(OpenBookQaOptions.parse({})).toEqual({
      config: 'main',
      splits: { train: 'train', test: 'validation', anchor: 'train' },
      subsetMode: 'sample',
      subsetSeed: 42,
      addSpace: false,
      compat: { referencePrompt: true },
    });
    expect(() => OpenBookQaOptions.parse({ config: 'extra' })).toThrow();
    expect(() => OpenBookQaOptions.parse({ compat: { swapChoiceFormat: false } })).toThrow();
    expect(plugin).toMatchObject({ kind: 'dataset', name: 'openbookqa' });
  });
});
