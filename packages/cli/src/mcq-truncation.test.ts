import * as path from 'node:path';
import { loadCausalLm, type CausalLm } from '@bayes-peft/backbone-causal-lm';
import { type McqDataset } from '@bayes-peft/core';
import { PluginRegistry } from '@bayes-peft/runner';
import { BUILTIN_PLUGINS } from './builtin-plugins';
import { findShared } from '@bayes-peft/fixtures';
import { instantiateDataset, localRunContext } from '@bayes-peft/mcq';
import { tempDir } from './cli.test-support';
import { mcqCases, writeMmluFile } from './mcq-cases.test-support';

// The reference truncates prompts on the right and can cut the answer cue (docs/reference-differences.md
// row 12); the backbone's encode keeps the END of an over-long prompt (and BOS), so every dataset's
// prompt still ends with its cue, where the class logits are read.
const shared = findShared('', 'the MCQ truncation tests (stories260K and shared/data)');
const d = shared ? describe : describe.skip;

d('over-long MCQ prompts keep their answer cue under the backbone encode', () => {
  let backbone: CausalLm;
  let mmlu: string;
  beforeAll(async () => {
    backbone = await loadCausalLm(path.join(shared!, 'models', 'stories260K'));
    mmlu = await writeMmluFile(await tempDir('mcq-trunc'));
  });
  afterAll(() => backbone?.dispose());

  const registry = new PluginRegistry([path.resolve(__dirname, '..')], BUILTIN_PLUGINS);

  it.each(['arc', 'openbookqa', 'piqa', 'winogrande', 'hellaswag', 'boolq', 'commonsenseqa', 'mmlu'])('%s', async (name) => {
    const c = mcqCases(shared!, mmlu).find((x) => x.plugin === name)!;
    const ds = instantiateDataset(registry.resolve('dataset', name).plugin, { ...c.options, maxTestExamples: 16, subsetMode: 'first' }, localRunContext()) as McqDataset;
    expect(ds.labels).toHaveLength(c.classes);
    const examples = await ds.load('test');
    const longest = examples.reduce((a, b) => (b.prompt.length > a.prompt.length ? b : a));
    expect(longest.prompt.endsWith(c.cue)).toBe(true);
    const tok = backbone.tokenizer;
    const full = tok.encode(longest.prompt, { addSpecialTokens: true });
    const maxLength = 24;
    expect(full.length).toBeGreaterThan(3 * maxLength);
    const batch = backbone.encode([longest.prompt, examples[0].prompt], { maxLength, addSpecialTokens: true });
    const kept = batch.ids[0].filter((_, t) => batch.mask[0][t] === 1);
    expect(kept).toHaveLength(maxLength);
    // BOS, then the last maxLength - 1 tokens of the full prompt: its end, answer cue included.
    expect(kept[0]).toBe(tok.bosTokenId);
    expect(kept.slice(1)).toEqual(full.slice(full.length - (maxLength - 1)));
    expect(tok.decode(kept.slice(1), { skipSpecialTokens: true }).endsWith(c.cue.trimStart())).toBe(true);
  });
});
