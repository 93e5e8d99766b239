import type { Backbone, ClassificationRecord, EvalPhase, McqExample, Metrics, Wrapper } from '@bayes-peft/core';
import { classificationMetrics } from '@bayes-peft/core';
import { combineSamples } from '@bayes-peft/core';
import { chunk, disposeMcqBatch, makeMcqBatch } from './mcq-batch';
import type { Progress } from './progress';

export interface McqEvaluation {
  readonly records: ClassificationRecord[];
  readonly metrics: Metrics;
}

/** Runs the wrapper's weight-sampled prediction over examples and scores it (docs/methods.md, 'Metrics'). */
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
  try {
    for (const examples of batches) {
      const batch = makeMcqBatch(args.backbone, examples, args.targetIds, args.maxSeqLen);
      let logits: number[][][];
      try {
        const t = await args.wrapper.predict(batch, { phase: args.phase });
        logits = (await t.array()) as number[][][];
        t.dispose();
      } finally {
        disposeMcqBatch(batch);
      }
      examples.forEach((ex, i) => {
        const { sampleProbs, probs } = combineSamples(logits[i], args.wrapper.averaging);
        records.push({ id: ex.id, label: ex.label, probs, sampleProbs });
      });
      task?.update(records.length);
    }
  } finally {
    task?.stop();
  }
  return { records, metrics: classificationMetrics(records, { bins: args.bins }) };
}

/** The predictions.jsonl row of one example. */
export function predictionRow(r: ClassificationRecord) {
  return { id: r.id, label: r.label, probs: r.probs, sample_probs: r.sampleProbs };
}
