import { Command } from 'commander';
import { Rng, UserError } from '@bayes-peft/core';
import { openModel, parsePositiveInt, withModelOptions, type ModelOptions } from './model-options';

export function generateCommand(): Command {
  return withModelOptions(new Command('generate'))
    .description('continue a prompt (greedy at temperature 0, else sampled with top-p)')
    .requiredOption('--prompt <text>', 'prompt text (BOS added as the tokenizer does)')
    .option('--max-new-tokens <n>', 'tokens to generate at most', parsePositiveInt('--max-new-tokens'), 50)
    .option('--temperature <t>', '0 = greedy', parseFloat, 0)
    .option('--top-p <p>', 'nucleus mass', parseFloat, 1)
    .option('--seed <n>', 'sampling seed', parsePositiveInt('--seed'), 1)
    .option('--engine <name>', 'tfjs or onnxruntime (the same tokens either way)', 'tfjs')
    .option('--json', 'print {"ids", "text"} (ids include the prompt)', false)
    .action(async (opts: ModelOptions & { prompt: string; maxNewTokens: number; temperature: number; topP: number; seed: number; engine: string; json: boolean }) => {
      if (opts.engine !== 'tfjs' && opts.engine !== 'onnxruntime') throw new UserError(`--engine must be tfjs or onnxruntime, got '${opts.engine}'`);
      if (!(opts.temperature >= 0)) throw new UserError(`--temperature must be >= 0, got ${opts.temperature}`);
      if (!(opts.topP > 0 && opts.topP <= 1)) throw new UserError(`--top-p must be in (0, 1], got ${opts.topP}`);
      const backbone = await openModel(opts);
      try {
        const unavailable = opts.engine === 'tfjs' ? null : backbone.engineUnavailable ? backbone.engineUnavailable(opts.engine) : 'the backbone runs on TensorFlow.js only';
        if (unavailable) throw new UserError(`--engine ${opts.engine}: ${unavailable}`);
        backbone.useEngine?.(opts.engine);
        const batch = backbone.encode([opts.prompt], { addSpecialTokens: true });
        const [generated] = await backbone.generate(batch, {
          maxNewTokens: opts.maxNewTokens,
          temperature: opts.temperature,
          topP: opts.topP,
          ctx: { training: false, rng: new Rng(opts.seed).child('generate') },
        });
        const text = backbone.tokenizer.decode(generated.ids, { skipSpecialTokens: true });
        if (opts.json) process.stdout.write(`${JSON.stringify({ ids: generated.ids, text })}\n`);
        else process.stdout.write(`${text}\n`);
      } finally {
        backbone.dispose();
      }
    });
}
