import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng, type DatasetLoadContext, type Logger, type OpenDataset, type RunContext } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';
import { startMockHub } from '@bayes-peft/fixtures';
import plugin, { SquadV2Options } from './index';

const quiet: Logger & { lines: string[] } = { lines: [], info: (m) => quiet.lines.push(m), warn: (m) => quiet.lines.push(`warning: ${m}`), debug() {} };

function makeCtx(hub: Partial<RunContext['hub']> = {}, specDir = process.cwd()): RunContext {
  return { seed: 1, rng: new Rng(1), log: quiet, specDir, hub: { offline: true, cacheDir: path.join(os.tmpdir(), 'bp-squad-v2-unused-cache'), endpoint: 'http://127.0.0.1:9', ...hub } };
}

function dataset(options: Record<string, unknown>, ctx: RunContext = makeCtx()): OpenDataset {
  return createRunSession({ context: ctx, dataset: { plugin, options: plugin.options.parse(options) } }).dataset() as OpenDataset;
}

/** A Llama-3 style chat template as chatTemplateContext renders it for a BOS-adding tokenizer (no leading BOS). */
const llama3Chat: DatasetLoadContext = {
  applyChatTemplate: (user, assistant) =>
    `<|start_header_id|>user<|end_header_id|>\n\n${user}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n${assistant === undefined ? '' : `${assistant}<|eot_id|>`}`,
};

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-squad-v2-'));
  try {
    await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** A row in the hub's schema (answers as columns: text and answer_start lists). */
const row = (id: string, question: string, texts: unknown, context = 'The Normans were the people who in the 10th and 11th centuries gave their name to Normandy.') =>
  JSON.stringify({ id, title: 'Normans', context, question, answers: { text: texts, answer_start: Array.isArray(texts) ? texts.map(() => 0) : [] } });

const ROWS = [
  row('q-in', 'In what country is Normandy located?', ['France', 'France.', 'the France', 'French Republic']),
  row('q-none', 'Who gave their name to Normandy in the 1000s and 1100s?', []),
  row('q-when', 'When were the Normans in Normandy?', ['10th and 11th centuries', 'in the 10th and 11th centuries']),
  row('q-x', 'What is France a region of?', []),
];

/** Writes the rows as `<split>.jsonl` in a fresh temp folder and runs `fn` on it. */
async function withRows(rows: readonly string[], fn: (dir: string, file: string) => Promise<void>, split = 'validation'): Promise<void> {
  await withTempDir(async (dir) => {
    const file = path.join(dir, `${split}.jsonl`);
    await fs.writeFile(file, rows.join('\n') + '\n');
    await fn(dir, file);
  });
}

const PLAIN_HEAD = 'Answer the question based on the context. Provide a concise answer. If the question cannot be answered from the context, respond with "unanswerable".\n\nContext: ';
const CHAT_HEAD = "Answer the question based on the context. Provide a concise answer. If the question cannot be answered, respond with 'unanswerable'.\n\nContext: ";
const CONTEXT = 'The Normans were the people who in the 10th and 11th centuries gave their name to Normandy.';

describe('SQuAD v2 from local rows', () => {
  it("golden plain prompt, references and training text; 'unanswerable' for a question without answers", async () => {
    await withRows(ROWS, async (dir) => {
      const [inFrance, none, when] = await dataset({ source: dir }).load('test');
      expect(inFrance).toEqual({
        id: 'q-in',
        question: 'In what country is Normandy located?',
        prompt: `${PLAIN_HEAD}${CONTEXT}\nQuestion: In what country is Normandy located?\nAnswer:`,
        // 'France', 'France.' and 'the France' normalise alike: one reference.
        references: ['france', 'french republic'],
        trainText: `${PLAIN_HEAD}${CONTEXT}\nQuestion: In what country is Normandy located?\nAnswer: france`,
        // The passage itself, for judges that show it.
        context: CONTEXT,
      });
      expect(none.references).toEqual(['unanswerable']);
      expect(none.trainText).toBe(`${none.prompt} unanswerable`);
      expect(when.references).toEqual(['10th and 11th centuries', 'in 10th and 11th centuries']);
      expect(quiet.lines.join('\n')).toMatch(/squad-v2 test = split 'validation' \(2 answerable, 2 unanswerable\): 4 of 4 examples, plain prompts/);
    });
  });

  it('aliases: false keeps the first answer only, as the reference scores', async () => {
    await withRows(ROWS, async (dir) => {
      const test = await dataset({ source: dir, aliases: false }).load('test');
      expect(test.map((e) => e.references)).toEqual([['france'], ['unanswerable'], ['10th and 11th centuries'], ['unanswerable']]);
    });
  });

  it("chat-templated prompts use the reference's chat wording; never/always", async () => {
    await withRows(ROWS, async (dir) => {
      const [chat, none] = await dataset({ source: dir }).load('test', llama3Chat);
      expect(chat.prompt).toBe(
        `<|start_header_id|>user<|end_header_id|>\n\n${CHAT_HEAD}${CONTEXT}\nQuestion: In what country is Normandy located?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`,
      );
      expect(chat.trainText).toBe(`${chat.prompt}france<|eot_id|>`);
      expect(none.trainText).toBe(`${none.prompt}unanswerable<|eot_id|>`);
      expect(quiet.lines.join('\n')).toMatch(/4 of 4 examples, chat-templated prompts/);
      const [plain] = await dataset({ source: dir, chatTemplate: 'never' }).load('test', llama3Chat);
      expect(plain.prompt.startsWith(PLAIN_HEAD)).toBe(true);
      await expect(dataset({ source: dir, chatTemplate: 'always' }).load('test', {})).rejects.toThrow(/squad-v2: chatTemplate is 'always' but the model's tokenizer has no chat template/);
    });
  });

  it("answers that normalise to '' are dropped; a question left with none is unanswerable, with a warning", async () => {
    const rows = [row('a', 'Q1?', ['The', 'Paris!']), row('b', 'Q2?', ['a', '...']), row('c', 'Q3?', ['An'])];
    await withRows(rows, async (dir) => {
      quiet.lines.length = 0;
      const [a, b, c] = await dataset({ source: dir }).load('test');
      expect(a.references).toEqual(['paris']);
      expect(b.references).toEqual(['unanswerable']);
      expect(c.references).toEqual(['unanswerable']);
      expect(quiet.lines.join('\n')).toMatch(/warning: squad-v2 validation: 2 question\(s\) whose answers all normalise to '' \(b, c\) are scored as unanswerable/);
      expect((await dataset({ source: dir, aliases: false }).load('test'))[0].references).toEqual(['paris']);
    });
  });

  it('answers as one object per answer, ids from the row index without an id, braces in the context kept', async () => {
    const rows = [
      JSON.stringify({ question: 'Q1?', context: 'Set {question} and {context} apart.', answers: [{ text: 'apart', answer_start: 26 }, { text: 'Apart' }] }),
      JSON.stringify({ question: 'Q2?', context: 'C.', answers: [] }),
    ];
    await withRows(rows, async (dir) => {
      const [first, second] = await dataset({ source: dir, splits: { train: 'own' } }).load('train');
      expect(first.id).toBe('own-0');
      expect(first.references).toEqual(['apart']);
      expect(first.prompt).toBe(`${PLAIN_HEAD}Set {question} and {context} apart.\nQuestion: Q1?\nAnswer:`);
      expect(second).toMatchObject({ id: 'own-1', references: ['unanswerable'] });
    }, 'own');
  });

  it('questions: answerable or unanswerable only, before the subset', async () => {
    await withRows(ROWS, async (dir) => {
      expect((await dataset({ source: dir, questions: 'answerable' }).load('test')).map((e) => e.id)).toEqual(['q-in', 'q-when']);
      expect((await dataset({ source: dir, questions: 'unanswerable', maxTestExamples: 1 }).load('test')).map((e) => e.id)).toEqual(['q-none']);
      expect(quiet.lines.join('\n')).toMatch(/1 of 2 unanswerable examples/);
    });
    await withRows([ROWS[1]], async (dir) => {
      await expect(dataset({ source: dir, questions: 'answerable' }).load('test')).rejects.toThrow(/the answerable questions of split 'validation' \(1 rows\) has no rows/);
    });
  });

  it('subsets: first N in file order by default, or a seeded sample', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => row(`id${i}`, `Q${i}?`, i % 3 ? [`A${i}`] : []));
    await withRows(rows, async (dir) => {
      const all = await dataset({ source: dir }).load('test');
      expect(all).toHaveLength(40);
      expect(await dataset({ source: dir, maxTestExamples: 5 }).load('test')).toEqual(all.slice(0, 5));
      const sample = await dataset({ source: dir, maxTestExamples: 5, subsetMode: 'sample' }).load('test');
      expect(sample).toHaveLength(5);
      expect(await dataset({ source: dir, maxTestExamples: 5, subsetMode: 'sample' }).load('test')).toEqual(sample);
      expect(sample.map((e) => e.id)).not.toEqual(all.slice(0, 5).map((e) => e.id));
      const other = await dataset({ source: dir, maxTestExamples: 5, subsetMode: 'sample', subsetSeed: 1 }).load('test');
      expect(other.map((e) => e.id)).not.toEqual(sample.map((e) => e.id));
    }, 'validation');
  });

  it('the train and anchor roles read the train split', async () => {
    await withRows(ROWS, async (dir) => {
      const ds = dataset({ source: dir, maxAnchorExamples: 2 });
      expect(await ds.load('train')).toHaveLength(4);
      expect((await ds.load('anchor')).map((e) => e.id)).toEqual(['q-in', 'q-none']);
      await expect(ds.load('test')).rejects.toThrow(/no files for split 'validation'/);
    }, 'train');
  });
});

describe('SQuAD v2 bad input', () => {
  it('a bad row names the file, the line and the field', async () => {
    const good = ROWS[0];
    const cases: [string, RegExp | string][] = [
      [JSON.stringify({ id: 'x', question: 'Q?', answers: { text: [] } }), /line 3: field 'context': missing \(the row has id, question, answers\)/],
      [row('x', 'Q?', 'France'), /line 3: field 'answers\.text': expected an array of strings, got a string \("France"\)/],
      [row('x', 'Q?', ['France', 3]), /line 3: field 'answers\.text\[1\]': expected a string, got a number \(3\)/],
      [row('x', '  ', ['France']), /line 3: field 'question': expected a non-empty string/],
      [JSON.stringify({ question: 'Q?', context: 'C.', answers: null }), /line 3: field 'answers': expected \{text: \[\.\.\.\], answer_start: \[\.\.\.\]\} or a list of \{text\}, got null/],
      [JSON.stringify({ question: 'Q?', context: 'C.', answers: ['France'] }), /line 3: field 'answers\[0\]': expected an object with a text, got a string \("France"\)/],
      [JSON.stringify({ question: 'Q?', context: 'C.', answers: [{ answer_start: 1 }] }), /line 3: field 'answers\[0\]\.text': expected a string, got nothing/],
      [JSON.stringify({ question: 'Q?', context: 'C.', answers: { answer_start: [] } }), /line 3: field 'answers\.text': missing/],
    ];
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'validation.jsonl');
      for (const [bad, message] of cases) {
        await fs.writeFile(file, [good, good, bad].join('\n'));
        await expect(dataset({ source: dir }).load('test')).rejects.toThrow(message);
      }
      await fs.writeFile(file, [good, row('x', 'Q?', 7)].join('\n'));
      await expect(dataset({ source: dir }).load('test')).rejects.toThrow(`${file} line 2: field 'answers.text': expected an array of strings, got a number (7)`);
    });
  });

  it('an empty split is an error', async () => {
    await withRows([''], async (dir) => {
      await expect(dataset({ source: dir }).load('test')).rejects.toThrow(/split 'validation' of config 'squad_v2' from .* has no rows/);
    });
  });
});

describe('SQuAD v2 from the hub (local hub, parquet as the hub serves it)', () => {
  it('reads rajpurkar/squad_v2 config squad_v2 by default, ids from the id column', async () => {
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const S = (name: string) => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
    const list = (name: string, element: object) => [{ name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 }, { name: 'list', repetition_type: 'REPEATED', num_children: 1 }, element];
    const schema = [
      { name: 'root', num_children: 5 },
      S('id'),
      S('title'),
      S('context'),
      S('question'),
      { name: 'answers', repetition_type: 'OPTIONAL', num_children: 2 },
      ...list('text', S('element')),
      ...list('answer_start', { name: 'element', type: 'INT32', repetition_type: 'OPTIONAL' }),
    ];
    const parquet = (ids: string[], answers: (i: string) => string[]) =>
      new Uint8Array(
        parquetWriteBuffer({
          schema: schema as never,
          columnData: [
            { name: 'id', data: ids },
            { name: 'title', data: ids.map(() => 'Title') },
            { name: 'context', data: ids.map((i) => `Context of ${i}.`) },
            { name: 'question', data: ids.map((i) => `What is ${i}?`) },
            { name: 'answers', data: ids.map((i) => ({ text: answers(i), answer_start: answers(i).map(() => 0) })) },
          ],
        }),
      );
    // The card of rajpurkar/squad_v2 as the hub serves it: one config, parquet per split.
    const card =
      '---\nconfigs:\n- config_name: squad_v2\n  data_files:\n  - split: train\n    path: squad_v2/train-*\n  - split: validation\n    path: squad_v2/validation-*\n  default: true\n---\n';
    const hub = await startMockHub([
      {
        type: 'dataset',
        id: 'rajpurkar/squad_v2',
        revisions: {
          main: {
            files: {
              'README.md': card,
              'squad_v2/train-00000-of-00001.parquet': parquet(['t1', 't2'], (i) => (i === 't2' ? [] : [`Answer ${i}`])),
              'squad_v2/validation-00000-of-00001.parquet': parquet(['v1'], () => ['Paris.', 'the Paris', 'Île-de-France']),
            },
          },
        },
      },
    ]);
    const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-squad-v2-hub-'));
    try {
      const ds = dataset({}, makeCtx({ offline: false, endpoint: hub.endpoint, cacheDir }));
      const train = await ds.load('train');
      expect(train.map((e) => [e.id, e.references])).toEqual([
        ['t1', ['answer t1']],
        ['t2', ['unanswerable']],
      ]);
      const [v] = await ds.load('test');
      expect(v).toEqual({
        id: 'v1',
        question: 'What is v1?',
        prompt: `${PLAIN_HEAD}Context of v1.\nQuestion: What is v1?\nAnswer:`,
        references: ['paris', 'îledefrance'],
        trainText: `${PLAIN_HEAD}Context of v1.\nQuestion: What is v1?\nAnswer: paris`,
        context: 'Context of v1.',
      });
    } finally {
      await hub.close();
      await fs.rm(cacheDir, { recursive: true, force: true });
    }
  });
});

describe('options', () => {
  it('defaults and strictness', () => {
    expect(SquadV2Options.parse({})).toEqual({
      config: 'squad_v2',
      splits: { train: 'train', test: 'validation', anchor: 'train' },
      chatTemplate: 'auto',
      aliases: true,
      questions: 'all',
      subsetMode: 'first',
      subsetSeed: 42,
    });
    expect(() => SquadV2Options.parse({ chatTemplate: 'yes' })).toThrow();
    expect(() => SquadV2Options.parse({ questions: 'some' })).toThrow();
    expect(() => SquadV2Options.parse({ splits: { valid: 'x' } })).toThrow();
    expect(() => SquadV2Options.parse({ maxTestExamples: 0 })).toThrow();
    expect(() => SquadV2Options.parse({ template: 'dsc' })).toThrow();
    expect(plugin).toMatchObject({ kind: 'dataset', name: 'squad-v2', packageName: '@bayes-peft/dataset-squad-v2' });
  });
});
