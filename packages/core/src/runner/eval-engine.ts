import type { Backbone, EvalEngine, EvalEngineChoice, Wrapper } from '../contracts';
import { readEnv } from '@bayes-peft/env';
import { UserError } from '../errors';

export interface EvalEngineDecision {
  readonly engine: EvalEngine;
  /** For the run's start-up line: why this engine. */
  readonly why: string;
}

/**
 * Picks the engine of a run's evaluation forwards. onnxruntime needs the wrapper to predict
 * through the backbone's sampledForward (it lists the engine) and the backbone to be able to
 * export itself with the adapters installed now; 'auto' falls back to TensorFlow.js and says
 * why, an explicit 'onnxruntime' that cannot run is an error before any work is done.
 */
export function resolveEvalEngine(choice: EvalEngineChoice, wrapper: Wrapper, backbone: Backbone): EvalEngineDecision {
  if (choice === 'tfjs') return { engine: 'tfjs', why: 'eval.engine tfjs' };
  // The engine a machine without onnxruntime gets, on any machine (BAYES_PEFT_FAST does not change it).
  if (choice === 'auto' && readEnv('BAYES_PEFT_EVAL_ENGINE') === 'tfjs') return { engine: 'tfjs', why: 'eval.engine auto: BAYES_PEFT_EVAL_ENGINE=tfjs' };
  let blocker: string | null = null;
  if (!wrapper.engines?.includes('onnxruntime')) blocker = `the ${wrapper.name} wrapper predicts with TensorFlow.js only`;
  else if (!backbone.sampledForward || !backbone.sampledForwardUnavailable) blocker = `the backbone ${backbone.id} has no onnxruntime export`;
  else blocker = backbone.sampledForwardUnavailable();
  if (blocker === null) return { engine: 'onnxruntime', why: `eval.engine ${choice}` };
  if (choice === 'onnxruntime') throw new UserError(`eval.engine: onnxruntime cannot run: ${blocker} (use eval.engine auto or tfjs)`);
  return { engine: 'tfjs', why: `eval.engine auto: ${blocker}` };
}
