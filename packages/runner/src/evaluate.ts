import type { Backbone, ClassificationRecord, EvalPhase, McqExample, Metrics, Wrapper } from '@bayes-peft/core';
import { classificationMetrics, combineSamples, flipRatio } from '@bayes-peft/core';
import { crashPoint } from '@bayes-peft/env';
import { chunk, disposeMcqBatch, makeMcqBatch } from './mcq-batch';
import type { Progress } from './progress';

export interface McqEvaluation {
  readonly records: ClassificationRecord[];
  readonly metrics: Metrics;
}

/**
 * Runs the wrapper's weight-sampled prediction over examples and scores it (docs/methods.md,
 * 'Metrics'). The final evaluation of a wrapper with a posterior mean (`predictMean`) also makes
 * one mean pass per batch and reports `val_flip_ratio`, the share of decisions the sampling
 * changes (TFB's metric; the mean pass draws nothing, so the other metrics are unchanged).
 */
export async function evaluateMcq(args: {
  wrapper: Wrapper;
  backbone: Backbone;
  examples: readonly McqExample[];
  targetIds: readonly number[];
  batchSize: number;
  maxSeqLen: number;
  phase: EvalPhase;
  bins: number;
  dropLast?: boolean;
  progress?: Progress;
}): Promise<McqEvaluation> {
  const batches = chunk(args.examples, args.batchSize, args.dropLast);
  const task = args.progress?.start(args.phase === 'final' ? 'evaluate' : 'eval (intermediate)', batches.reduce((n, b) => n + b.length, 0), 'ex');
  const records: ClassificationRecord[] = [];
  const meanPass = args.phase === 'final' && args.wrapper.predictMean ? args.wrapper.predictMean.bind(args.wrapper) : null;
  const meanLogits: number[][] = [];
  try {
    for (const examples of batches) {
      const batch = makeMcqBatch(args.backbone, examples, args.targetIds, args.maxSeqLen);
      let logits: number[][][];
      try {
        const t = await args.wrapper.predict(batch, { phase: args.phase });
        logits = (await t.array()) as number[][][];
        t.dispose();
        if (meanPass) {
          const m = await meanPass(batch);
          meanLogits.push(...((await m.array()) as number[][]));
          m.dispose();
        }
      } finally {
        disposeMcqBatch(batch);
      }
      examples.forEach((ex, i) => {
        const { sampleProbs, probs } = combineSamples(logits[i], args.wrapper.averaging);
        records.push({ id: ex.id, label: ex.label, probs, sampleProbs });
      });
      task?.update(records.length);
      crashPoint('eval-batch');
    }
  } finally {
    task?.stop();
  }
  const metrics = classificationMetrics(records, { bins: args.bins });
  if (meanPass) metrics.val_flip_ratio = flipRatio(meanLogits, records.map((r) => r.probs));
  return { records, metrics };
}

/** The predictions.jsonl row of one example. */
export function predictionRow(r: ClassificationRecord) {
  return { id: r.id, label: r.label, probs: r.probs, sample_probs: r.sampleProbs };
}
