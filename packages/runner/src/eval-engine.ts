import type { Backbone, EvalEngine, EvalEngineChoice } from '@bayes-peft/core';
import { readEnv } from '@bayes-peft/env';
import { UserError } from '@bayes-peft/core';

export interface EvalEngineDecision {
  readonly engine: EvalEngine;
  /** For the run's start-up line: why this engine. */
  readonly why: string;
}

/**
 * Picks the engine of a run's sampled forwards and generations and sets it on the backbone:
 * the one place a run chooses it (wrappers never see it). onnxruntime needs a backbone that can
 * export itself with the adapters installed now (call it after attach); 'auto' falls back to
 * TensorFlow.js and says why, an explicit 'onnxruntime' that cannot run is an error before any
 * work is done.
 */
export function selectEvalEngine(choice: EvalEngineChoice, backbone: Backbone): EvalEngineDecision {
  const decision = resolveEvalEngine(choice, backbone);
  backbone.useEngine?.(decision.engine);
  return decision;
}

/** The decision of `selectEvalEngine`, without setting it. */
export function resolveEvalEngine(choice: EvalEngineChoice, backbone: Backbone): EvalEngineDecision {
  if (choice === 'tfjs') return { engine: 'tfjs', why: 'eval.engine tfjs' };
  // The engine a machine without onnxruntime gets, on any machine (BAYES_PEFT_FAST does not change it).
  if (choice === 'auto' && readEnv('BAYES_PEFT_EVAL_ENGINE') === 'tfjs') return { engine: 'tfjs', why: 'eval.engine auto: BAYES_PEFT_EVAL_ENGINE=tfjs' };
  const blocker = backbone.engineUnavailable ? backbone.engineUnavailable('onnxruntime') : `the backbone ${backbone.id} runs on TensorFlow.js only`;
  if (blocker === null) return { engine: 'onnxruntime', why: `eval.engine ${choice}` };
  if (choice === 'onnxruntime') throw new UserError(`eval.engine: onnxruntime cannot run: ${blocker} (use eval.engine auto or tfjs)`);
  return { engine: 'tfjs', why: `eval.engine auto: ${blocker}` };
}
