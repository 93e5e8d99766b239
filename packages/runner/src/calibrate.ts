import type { AnchorBatches, Backbone, CalibrationResult, McqExample, TrainBatch, Wrapper } from '@bayes-peft/core';
import { disposeTrainBatch } from './answer-batch';
import { chunk } from './mcq-batch';
import { trainBatchMaker, type TrainBatchMaker } from './batch-maker';

/** The anchor examples and how to batch them: multiple-choice ones by default, any kind with `makeBatch`. */
export interface AnchorArgs<E> {
  examples: readonly E[];
  /** Builds a batch of anchor examples (e.g. makeAnswerBatch for an open-ended anchor split); default: multiple-choice batches of `backbone` and `targetIds`. */
  makeBatch?: TrainBatchMaker<E>;
  backbone?: Backbone;
  targetIds?: readonly number[];
  batchSize: number;
  /** Tokens kept per multiple-choice prompt (needed without makeBatch). */
  maxSeqLen?: number;
}

/**
 * The anchor examples as `AnchorBatches`: every call is a fresh pass that tokenizes one batch at
 * a time and disposes it when the next is requested or the pass ends (also on break or throw).
 * Every anchor example is used (the reference drops the last partial batch).
 */
export function anchorBatches<E = McqExample>(args: AnchorArgs<E>): AnchorBatches {
  const groups = chunk(args.examples, args.batchSize);
  const makeBatch = trainBatchMaker(args);
  return async function* pass(): AsyncGenerator<TrainBatch> {
    for (const examples of groups) {
      const batch = makeBatch(examples);
      try {
        yield batch;
      } finally {
        disposeTrainBatch(batch);
      }
    }
  };
}

/** Calls the wrapper's calibrate hook on the anchor examples; null for wrappers without one. */
export async function calibrateWrapper<E = McqExample>(args: AnchorArgs<E> & { wrapper: Wrapper }): Promise<CalibrationResult | null> {
  if (!args.wrapper.calibrate) return null;
  return args.wrapper.calibrate(anchorBatches(args), { numExamples: args.examples.length });
}
