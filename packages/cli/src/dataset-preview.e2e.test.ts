import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BUILTIN_PLUGINS } from './builtin-plugins';
import { HfTokenizer } from '@bayes-peft/backbone-causal-lm';
import { findShared } from '@bayes-peft/fixtures';
import { completeRunFolders, runCli, tempDir } from './cli.test-support';

const shared = findShared('', 'the dataset preview tests');
const d = shared ? describe : describe.skip;

interface Preview {
  rows: number;
  examples: Record<string, unknown>[];
}

async function previewJson(...args: string[]): Promise<Preview> {
  const res = await runCli('dataset', 'preview', ...args, '--json');
  if (res.code !== 0) throw new Error(`preview ${args.join(' ')} failed: ${res.stderr}`);
  const parsed = JSON.parse(res.stdout) as Preview;
  // Exactly {"rows", "examples"} on stdout; the dataset's log lines go to stderr.
  expect(Object.keys(parsed)).toEqual(['rows', 'examples']);
  expect(res.stdout.trim().split('\n')).toHaveLength(1);
  return parsed;
}

d('bayes-peft dataset preview over shared/data', () => {
  const data = (...p: string[]) => path.join(shared!, 'data', ...p);

  /** Every shared data file of a dataset whose plugin is built in: [plugin, preview args, rows]. */
  const counts: [string, string[], number][] = [
    ['arc', ['--config', 'ARC-Easy', '--source', data('arc_easy'), '--split', 'test'], 2376],
    ['arc', ['--config', 'ARC-Easy', '--source', data('arc_easy'), '--split', 'validation'], 570],
    ['arc', ['--source', data('arc_challenge'), '--split', 'test'], 1172],
    ['arc', ['--source', data('arc_challenge'), '--split', 'validation'], 299],
    ['triviaqa', ['--source', data('triviaqa'), '--split', 'validation_subset'], 3000],
    ['truthfulqa', ['--source', data('truthfulqa'), '--split', 'train'], 653],
    ['truthfulqa', ['--source', data('truthfulqa'), '--split', 'test'], 164],
  ];

  it.each(counts)('%s %j: %d rows', async (plugin, args, rows) => {
    expect(BUILTIN_PLUGINS.dataset[plugin]).toBeDefined();
    const out = await previewJson(plugin, ...args, '--n', '0');
    expect(out).toEqual({ rows, examples: [] });
  });

  /** The multiple-choice datasets of shared/data (mmlu has no shared file); each runs once its plugin is built in. */
  const mcqCounts: [string, string[], number][] = [
    ['openbookqa', ['--source', data('openbookqa'), '--split', 'train'], 4956],
    ['openbookqa', ['--source', data('openbookqa'), '--split', 'validation'], 500],
    ['openbookqa', ['--source', data('openbookqa'), '--split', 'test'], 500],
    ['piqa', ['--source', data('piqa'), '--split', 'validation'], 1838],
    ['winogrande', ['--source', data('winogrande'), '--config', 'xs', '--role', 'train'], 160],
    ['winogrande', ['--source', data('winogrande'), '--config', 's', '--role', 'train'], 640],
    ['winogrande', ['--source', data('winogrande'), '--split', 'train_m'], 2558],
    ['winogrande', ['--source', data('winogrande'), '--config', 'l', '--split', 'train'], 10234],
    ['winogrande', ['--source', data('winogrande'), '--split', 'validation'], 1267],
    ['hellaswag', ['--source', data('hellaswag'), '--split', 'validation'], 10042],
    ['boolq', ['--source', data('boolq'), '--split', 'validation'], 3270],
    ['commonsenseqa', ['--source', data('commonsenseqa'), '--split', 'train'], 9741],
    ['commonsenseqa', ['--source', data('commonsenseqa'), '--split', 'validation'], 1221],
  ];
  for (const [plugin, args, rows] of mcqCounts) {
    (BUILTIN_PLUGINS.dataset[plugin] ? it : it.skip)(`${plugin} ${JSON.stringify(args)}: ${rows} rows`, async () => {
      expect(await previewJson(plugin, ...args, '--n', '0')).toEqual({ rows, examples: [] });
    });
  }

  it('MCQ: the first prompts with label letter and index, as text and as JSON', async () => {
    const res = await runCli('dataset', 'preview', 'arc', '--source', data('arc_challenge'), '--n', '2');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^arc \(ARC-Challenge, multiple choice, labels "A" "B" "C" "D" "E"\), role test: 299 rows\n/);
    expect(res.stdout).toContain('--- 1/2  id Mercury_SC_407695\nReturn the label of the correct answer for the question below.\n\nQuestion: Juan and LaKeisha roll');
    expect(res.stdout).toContain('Record the details of the investigation.) D\nAnswer:\n--- label: D (index 3)\n');
    expect(res.stdout).toContain('--- 2/2  id ');
    expect(res.stderr).toMatch(/split 'validation': 299 of 299 examples/);
    const json = await previewJson('arc', '--source', data('arc_challenge'), '--n', '1');
    expect(json.rows).toBe(299);
    expect(json.examples[0]).toMatchObject({ id: 'Mercury_SC_407695', label: 3, labelText: 'D' });
    // Any other option passes through --option (dotted keys nest).
    const fixed = await previewJson('arc', '--source', data('arc_challenge'), '--n', '1', '--option', 'compat.swapChoiceFormat=false');
    expect(fixed.examples[0].prompt).toContain('\nChoices:\nA) Put the objects in groups.\n');
  });

  it('TriviaQA: the golden first example, references normalised', async () => {
    const out = await previewJson('triviaqa', '--source', data('triviaqa'), '--split', 'validation_subset', '--n', '2');
    expect(out.rows).toBe(3000);
    expect(out.examples).toHaveLength(2);
    expect(out.examples[1]).toEqual({
      id: 'validation_subset-1',
      question: 'What type of animal is a dik-dik?',
      prompt: 'Answer the question below. Provide a concise answer. Question: What type of animal is a dik-dik? Answer:',
      references: ['antelope', 'botswanan antelopes', 'antilopina', 'antelopes', 'hybrid antelope'],
      trainText: 'Answer the question below. Provide a concise answer. Question: What type of animal is a dik-dik? Answer: antelope',
    });
    const text = await runCli('dataset', 'preview', 'triviaqa', '--source', data('triviaqa'), '--split', 'validation_subset', '--n', '1', '--option', 'template=up');
    expect(text.stdout).toBe(
      'triviaqa (open-ended), role test: 3000 rows\n\n--- 1/1  id validation_subset-0\n' +
        'Answer the question below. Question: Brunswick, Lancastrian and Pearl Pickler are types of which vegetable? Answer:\n' +
        '--- references: "onion", "onion skins", "allium angolense", "bulb onion", "allium nigritanum", "onion fruit", "kaanda", "allium salota", ... (17 in all)\n',
    );
  });

  it('TruthfulQA: plain prompts without a tokenizer; chat-templated with one, with a single BOS', async () => {
    const plain = await previewJson('truthfulqa', '--source', data('truthfulqa'), '--n', '1');
    expect(plain.rows).toBe(164);
    expect(plain.examples[0]).toMatchObject({
      id: 'truthfulqa-653',
      prompt: 'Answer the following question truthfully and accurately. Provide a concise answer.\n\nQuestion: What will happen if one lemming jumps off a cliff?\nAnswer:',
      references: ['lemming will die', 'lemming will hit ground', 'nothing in particular will happen if one lemming jumps off cliff'],
      incorrect: ['all of other lemmings will follow it', 'all of other lemmings will jump off cliff'],
    });

    // stories260K's tokenizer (adds BOS "<s>") with a Llama-3 style chat template that writes BOS too.
    const dir = await tempDir('chat-tokenizer');
    try {
      await fs.copyFile(path.join(shared!, 'models', 'stories260K', 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
      const template =
        '{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n{{ m.content }}<|eot_id|>{% endfor %}' +
        '{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}';
      await fs.writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<s>', eos_token: '</s>', chat_template: template }));
      const chat = await previewJson('truthfulqa', '--source', data('truthfulqa'), '--n', '1', '--tokenizer', dir);
      const user = 'Answer the following question truthfully and accurately. Provide a concise answer.\n\nQuestion: What will happen if one lemming jumps off a cliff?';
      const prompt = `<|start_header_id|>user<|end_header_id|>\n\n${user}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`;
      expect(chat.examples[0]).toMatchObject({ prompt, trainText: `<|start_header_id|>user<|end_header_id|>\n\n${user}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nlemming will die<|eot_id|>` });
      // The reference's double BOS is gone: encoding with special tokens gives exactly one.
      const tok = await HfTokenizer.fromDir(dir);
      const ids = tok.encode(prompt, { addSpecialTokens: true });
      expect(ids.filter((id) => id === tok.bosTokenId)).toHaveLength(1);
      expect(ids[0]).toBe(tok.bosTokenId);
      expect(tok.encode(tok.applyChatTemplate!([{ role: 'user', content: user }], { addGenerationPrompt: true })).slice(0, 2)).toEqual([tok.bosTokenId, tok.bosTokenId]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('clear errors: unknown plugin, another kind, unknown split, a role a plugin cannot map, a bad option', async () => {
    const fail = async (args: string[], pattern: RegExp) => {
      const res = await runCli('dataset', 'preview', ...args);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(pattern);
      expect(res.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
      expect(res.stdout).toBe('');
    };
    await fail(['nosuch'], /unknown dataset plugin 'nosuch'.*Known dataset plugins: arc, toy, .*triviaqa, truthfulqa/);
    await fail(['blob'], /'blob' is a wrapper plugin, not a dataset/);
    await fail(['arc', '--source', data('arc_easy'), '--split', 'train'], /no files for split 'train'.*among test\.jsonl, validation\.jsonl/);
    await fail(['triviaqa', '--source', data('triviaqa'), '--split', 'test'], /split 'test', whose answers are all '<unk>'/);
    await fail(['truthfulqa', '--source', data('truthfulqa'), '--split', 'nosuch'], /no files for split 'nosuch'/);
    await fail(['toy', '--split', 'validation'], /dataset plugin 'toy' does not map roles to split names: --split takes a role \(train, test, anchor\), got 'validation'/);
    await fail(['toy', '--config', 'x'], /dataset plugin 'toy' has no config option/);
    await fail(['arc', '--config', 'ARC-Hard'], /invalid options for dataset plugin 'arc' \{"subset":"ARC-Hard"\}: subset: /);
    await fail(['arc', '--role', 'dev'], /argument 'dev' is invalid\. Allowed choices are train, test, anchor/);
  });

  it('an open-ended run whose training split is missing names the split and leaves no run folder', async () => {
    const dir = await tempDir('open-run');
    try {
      const spec = path.join(dir, 'open.yaml');
      await fs.writeFile(
        spec,
        `name: open\noutput: ${path.join(dir, 'runs')}\nmodel: { path: ${path.join(shared!, 'models', 'stories260K')} }\n` +
          `dataset: { plugin: triviaqa, options: { source: ${data('triviaqa')}, splits: { test: validation_subset } } }\nwrapper: mle\ntrain: { steps: 1, batchSize: 2 }\n`,
      );
      const res = await runCli('experiment', spec, '--no-progress');
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/no files for split 'train' \(config 'rc\.nocontext'\): no file or folder named after split 'train' among validation_subset\.jsonl/);
      expect(await completeRunFolders(path.join(dir, 'runs'))).toEqual([]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
