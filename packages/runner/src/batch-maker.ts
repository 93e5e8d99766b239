import type { Backbone, McqExample, TrainBatch } from '@bayes-peft/core';
import { makeMcqBatch } from './mcq-batch';

/** Builds one batch of training (or anchor) examples; the caller disposes it with `disposeTrainBatch`. */
export type TrainBatchMaker<E> = (examples: readonly E[]) => TrainBatch;

/**
 * The batch maker of a run's training or anchor examples: `makeBatch` when given (e.g.
 * `(examples) => makeAnswerBatch(backbone, examples, maxSeqLen)` for an open-ended dataset), else
 * multiple-choice batches of `backbone` and `targetIds`, as runs have always made them.
 */
export function trainBatchMaker<E>(args: { makeBatch?: TrainBatchMaker<E>; backbone?: Backbone; targetIds?: readonly number[]; maxSeqLen?: number }): TrainBatchMaker<E> {
  if (args.makeBatch) return args.makeBatch;
  const { backbone, targetIds, maxSeqLen } = args;
  if (!backbone || !targetIds || maxSeqLen === undefined) throw new Error('training batches need makeBatch, or backbone, targetIds and maxSeqLen for multiple-choice examples');
  return (examples) => makeMcqBatch(backbone, examples as unknown as readonly McqExample[], targetIds, maxSeqLen);
}
