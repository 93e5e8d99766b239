import type { AnchorBatches, Backbone, CalibrationResult, McqBatch, McqExample, Wrapper } from '@bayes-peft/core';
import { chunk, disposeMcqBatch, makeMcqBatch } from './mcq-batch';

/**
 * The anchor examples as `AnchorBatches`: every call is a fresh pass that tokenizes one batch at
 * a time and disposes it when the next is requested or the pass ends (also on break or throw).
 * Every anchor example is used (the reference drops the last partial batch).
 */
export function anchorBatches(args: {
  backbone: Backbone;
  examples: readonly McqExample[];
  targetIds: readonly number[];
  batchSize: number;
  maxSeqLen: number;
}): AnchorBatches {
  const groups = chunk(args.examples, args.batchSize);
  return async function* pass(): AsyncGenerator<McqBatch> {
    for (const examples of groups) {
      const batch = makeMcqBatch(args.backbone, examples, args.targetIds, args.maxSeqLen);
      try {
        yield batch;
      } finally {
        disposeMcqBatch(batch);
      }
    }
  };
}

/** Calls the wrapper's calibrate hook on the anchor examples; null for wrappers without one. */
export async function calibrateWrapper(args: {
  wrapper: Wrapper;
  backbone: Backbone;
  examples: readonly McqExample[];
  targetIds: readonly number[];
  batchSize: number;
  maxSeqLen: number;
}): Promise<CalibrationResult | null> {
  if (!args.wrapper.calibrate) return null;
  return args.wrapper.calibrate(anchorBatches(args), { numExamples: args.examples.length });
}
