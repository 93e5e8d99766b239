import type { Backbone, Example, Judge, Logger, McqDataset, McqExample, Metrics, OpenDataset, OpenExample, Rng, TrainBatch, Wrapper } from '@bayes-peft/core';
import { chatTemplateContext, UserError } from '@bayes-peft/core';
import { makeAnswerBatch } from './answer-batch';
import { evaluateMcq, predictionRow } from './evaluate';
import { makeMcqBatch, targetTokenIds } from './mcq-batch';
import type { SemanticSettings } from './open-semantic';
import { evaluateOpenFinal, evaluateOpenIntermediate, type OpenEvaluationArgs } from './open-task';
import type { Progress } from './progress';
import { RUN_FILES, type RunFolder } from './run-folder';
import type { RunSpec } from './spec/schema';

/**
 * What a run does with its dataset, by task: the examples of each role, how a batch of them is
 * trained on, and how the model is evaluated. The runner's phases (train, calibrate, evaluate)
 * are the same for both tasks; only this differs.
 */
export interface RunTask {
  readonly kind: 'mcq' | 'open';
  readonly train: readonly Example[];
  readonly test: readonly Example[];
  readonly anchor: readonly Example[];
  /** A training (or anchor) batch of these examples; the caller disposes it. */
  makeBatch(examples: readonly Example[]): TrainBatch;
  /** An evaluation during training: its metrics. */
  evaluateIntermediate(step: number): Promise<Metrics>;
  /** The final evaluation: writes predictions.jsonl (and generations.jsonl), returns the metrics. */
  evaluateFinal(folder: RunFolder, fingerprint: string): Promise<Metrics>;
  /** Frees what the task holds (the judge's model). */
  close(): Promise<void>;
}

interface TaskArgs {
  readonly spec: RunSpec;
  readonly backbone: Backbone;
  readonly wrapper: Wrapper;
  /** The run's evaluation stream (open-ended generation draws its tokens from it). */
  readonly rng: Rng;
  readonly log: Logger;
  readonly progress: Progress;
}

/** Questions (or examples) per evaluation batch: eval.batchSize, else train.batchSize. */
function evalBatchSize(spec: RunSpec): number {
  return spec.eval.batchSize ?? spec.train.batchSize;
}

/** Multiple choice: class NLL on the answer token, weight-sampled class probabilities at evaluation. */
export async function mcqTask(dataset: McqDataset, args: TaskArgs & { needsTrain: boolean; needsAnchor: boolean }): Promise<RunTask> {
  const { spec, backbone, wrapper } = args;
  const train = args.needsTrain ? await dataset.load('train') : [];
  const test = await dataset.load('test');
  const anchor = args.needsAnchor ? await dataset.load('anchor') : [];
  const targetIds = targetTokenIds(backbone.tokenizer, dataset.labels);
  const evalArgs = {
    wrapper,
    backbone,
    targetIds,
    batchSize: evalBatchSize(spec),
    maxSeqLen: spec.train.maxSeqLen,
    bins: spec.eval.bins,
    dropLast: spec.eval.dropLast,
    progress: args.progress,
  };
  return {
    kind: 'mcq',
    train,
    test,
    anchor,
    makeBatch: (examples) => makeMcqBatch(backbone, examples as readonly McqExample[], targetIds, spec.train.maxSeqLen),
    evaluateIntermediate: async () => (await evaluateMcq({ ...evalArgs, examples: test, phase: 'intermediate' })).metrics,
    evaluateFinal: async (folder) => {
      const { records, metrics } = await evaluateMcq({ ...evalArgs, examples: test, phase: 'final' });
      await folder.writeJsonl(RUN_FILES.predictions, records.map(predictionRow));
      return metrics;
    },
    close: async () => undefined,
  };
}

/**
 * Open-ended QA: next-token NLL on the answer tokens in training; at evaluation S sampled answers
 * per question, scored by the run's judge and, with a comparer, clustered by meaning
 * (docs/run-spec.md, `generation`, `scorer` and `semantic`).
 */
export async function openTask(
  dataset: OpenDataset,
  judge: Judge,
  semantic: SemanticSettings | undefined,
  args: TaskArgs & { needsTrain: boolean; needsAnchor: boolean },
): Promise<RunTask> {
  const { spec, backbone, wrapper } = args;
  const loadCtx = chatTemplateContext(backbone.tokenizer);
  const load = async (role: 'train' | 'test' | 'anchor') => dataset.load(role, loadCtx);
  const train = args.needsTrain ? await load('train') : [];
  if (train.length > 0 && train.some((e) => e.trainText === undefined)) {
    const missing = train.find((e) => e.trainText === undefined)!;
    throw new UserError(`dataset '${dataset.name}': training example ${missing.id} has no training text (the dataset cannot be trained on); set train.steps: 0 to evaluate only`);
  }
  const test = await load('test');
  const anchor = args.needsAnchor ? await load('anchor') : [];
  const openArgs: OpenEvaluationArgs = {
    wrapper,
    backbone,
    judge,
    ...(semantic ? { semantic } : {}),
    examples: test,
    generation: spec.generation,
    batchSize: spec.generation.batchSize ?? evalBatchSize(spec),
    maxSeqLen: spec.train.maxSeqLen,
    log: args.log,
    progress: args.progress,
  };
  const rng = args.rng.child('generation');
  // An answer cut at train.maxSeqLen is said once per example, not at every epoch.
  const warned = new Set<string>();
  const warn = (message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    args.log.warn(message);
  };
  return {
    kind: 'open',
    train,
    test,
    anchor,
    makeBatch: (examples) => makeAnswerBatch(backbone, examples as readonly OpenExample[], spec.train.maxSeqLen, { warn }),
    evaluateIntermediate: async (step) => (await evaluateOpenIntermediate(openArgs, rng.child(`intermediate-${step}`))).metrics,
    evaluateFinal: async (folder, fingerprint) => {
      const { rows, metrics } = await evaluateOpenFinal(openArgs, rng.child('final'), folder, fingerprint);
      await folder.writeJsonl(RUN_FILES.predictions, rows);
      return metrics;
    },
    close: async () => {
      await judge.dispose?.();
      if (semantic && semantic.comparer !== judge) await semantic.comparer.dispose?.();
    },
  };
}
