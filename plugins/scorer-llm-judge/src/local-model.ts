import { readEnv, type Backbone, type RunContext } from '@bayes-peft/core';
import { loadCausalLm } from '@bayes-peft/backbone-causal-lm';
import type { LocalJudgeOptions } from './options';

/**
 * Loads the judge model as the causal-lm backbone loads a model (a folder relative to the spec,
 * or a hub id with the run's hub settings), and puts its generation on the engine the options
 * ask for: 'auto' takes onnxruntime when the model can run on it (and BAYES_PEFT_EVAL_ENGINE is
 * not tfjs), as the runner does for the run's own model.
 */
export async function loadJudgeModel(options: LocalJudgeOptions, run: RunContext): Promise<Backbone> {
  const model = await loadCausalLm(options.model, { hub: run.hub, revision: options.revision, baseDir: run.specDir, log: run.log });
  const blocker = model.engineUnavailable('onnxruntime');
  const forcedTfjs = options.engine === 'auto' && readEnv('BAYES_PEFT_EVAL_ENGINE') === 'tfjs';
  if (options.engine === 'onnxruntime' && blocker) {
    model.dispose();
    throw new Error(`llm-judge: engine onnxruntime cannot run the judge model: ${blocker} (use engine auto or tfjs)`);
  }
  const engine = options.engine === 'tfjs' || forcedTfjs || blocker ? 'tfjs' : 'onnxruntime';
  model.useEngine(engine);
  const style = !model.tokenizer.applyChatTemplate || options.chatTemplate === 'never' ? 'the plain-text prompt' : 'its chat template';
  run.log.info(`llm-judge: judge model ${model.id}, prompt through ${style}, greedy replies on ${engine}`);
  return model;
}

const shared = new Map<string, { model: Promise<Backbone>; users: number }>();

/**
 * The judge model for these options, loaded once per process and shared by every judge that
 * asks for the same one (the runs of a matrix make a judge each; the reference reloads its judge
 * at every evaluation). `release` frees it when its last user is done; a model that failed to
 * load is forgotten, so a later run tries again.
 */
export function acquireJudgeModel(options: LocalJudgeOptions, run: RunContext): { model: Promise<Backbone>; release: () => Promise<void> } {
  const key = JSON.stringify([run.specDir, options.model, options.revision ?? null, options.engine, options.chatTemplate]);
  let entry = shared.get(key);
  if (entry) run.log.info(`llm-judge: judge model ${options.model} shared with an earlier run`);
  else {
    const model = loadJudgeModel(options, run);
    entry = { model, users: 0 };
    shared.set(key, entry);
    model.catch(() => shared.get(key)?.model === model && shared.delete(key));
  }
  entry.users++;
  const mine = entry;
  let released = false;
  return {
    model: mine.model,
    release: async () => {
      if (released) return;
      released = true;
      if (--mine.users > 0) return;
      if (shared.get(key) === mine) shared.delete(key);
      (await mine.model.catch(() => null))?.dispose();
    },
  };
}
