import type { Backbone, McqExample, TrainingPlan, TrainStepResult, Wrapper } from '@bayes-peft/core';
import { NonFiniteLossError, RunInterruptedError } from '@bayes-peft/core';
import type { Rng } from '@bayes-peft/core';
import { crashPoint } from '@bayes-peft/env';
import type { RunSpec } from './spec/schema';
import { disposeTrainBatch } from './answer-batch';
import { trainBatchMaker, type TrainBatchMaker } from './batch-maker';
import type { Progress } from './progress';

export interface TrainLoopHooks {
  /** After every `logEvery` steps. */
  onLog(step: number, epoch: number, result: TrainStepResult): Promise<void>;
  /** After steps where an intermediate evaluation is due. */
  onEval(step: number): Promise<void>;
  /** After steps where a checkpoint is due (and never after a failed step). */
  onCheckpoint(step: number): Promise<void>;
}

/** The facts a wrapper needs, derived from the spec and the training set (drop_last batches). */
export function trainingPlan(spec: RunSpec, numTrainRows: number): TrainingPlan {
  const t = spec.train;
  const stepsPerEpoch = Math.floor(numTrainRows / t.batchSize);
  return {
    totalSteps: t.steps,
    warmupSteps: t.steps * t.warmupRatio,
    stepsPerEpoch,
    batchSize: t.batchSize,
    numTrainExamples: stepsPerEpoch * t.batchSize,
    lr: t.lr,
    weightDecay: t.weightDecay,
    adamEpsilon: t.adamEpsilon,
    optimizer: t.optimizer,
  };
}

/**
 * Exactly `plan.totalSteps` optimizer steps (the reference runs whole epochs past T with a zero
 * learning rate: defect 24). Batches hold `batchSize` examples; each epoch is reshuffled from
 * the run's RNG unless `train.shuffle` is false. The examples are multiple-choice ones (batches
 * of `backbone` and `targetIds`) unless `makeBatch` builds the batches (open-ended examples:
 * `(examples) => makeAnswerBatch(backbone, examples, maxSeqLen)`).
 */
export async function trainLoop<E = McqExample>(args: {
  wrapper: Wrapper;
  examples: readonly E[];
  /** Builds a batch of examples; default: multiple-choice batches of `backbone` and `targetIds`. */
  makeBatch?: TrainBatchMaker<E>;
  backbone?: Backbone;
  targetIds?: readonly number[];
  spec: RunSpec;
  plan: TrainingPlan;
  rng: Rng;
  hooks: TrainLoopHooks;
  progress?: Progress;
  startStep?: number;
  /** Aborting stops after the current step with a checkpoint, so the run can resume. */
  signal?: AbortSignal;
}): Promise<void> {
  const { spec, plan } = args;
  const T = plan.totalSteps;
  if (T === 0) return;
  if (plan.stepsPerEpoch === 0) {
    throw new Error(`the training split has ${args.examples.length} examples, fewer than one batch of ${plan.batchSize}`);
  }
  const makeBatch = trainBatchMaker({ ...args, maxSeqLen: spec.train.maxSeqLen });
  const task = args.progress?.start('train', T, 'step');
  let order: E[] = [];
  let epoch = -1;
  try {
    for (let step = args.startStep ?? 0; step < T; step++) {
      const e = Math.floor(step / plan.stepsPerEpoch);
      if (e !== epoch) {
        epoch = e;
        order = spec.train.shuffle ? args.rng.child(`epoch-${e}`).shuffle(args.examples) : [...args.examples];
      }
      const offset = (step % plan.stepsPerEpoch) * plan.batchSize;
      const batch = makeBatch(order.slice(offset, offset + plan.batchSize));
      let result: TrainStepResult;
      try {
        result = args.wrapper.trainStep(batch, step);
      } finally {
        disposeTrainBatch(batch);
      }
      crashPoint('train-step');
      const bad = Object.entries(result).filter(([, v]) => typeof v === 'number' && !Number.isFinite(v));
      if (bad.length > 0) throw new NonFiniteLossError(step + 1, Object.fromEntries(bad));
      const done = step + 1;
      task?.update(done, { loss: result.loss });
      if (done % spec.train.logEvery === 0 || done === T) await args.hooks.onLog(done, epoch, result);
      const evalDue = spec.train.evalEvery > 0 && done % spec.train.evalEvery === 0 && done < T;
      if (evalDue) await args.hooks.onEval(done);
      const ckptDue = spec.train.checkpointEvery > 0 ? done % spec.train.checkpointEvery === 0 : evalDue;
      if (ckptDue || done === T) await args.hooks.onCheckpoint(done);
      else if (args.signal?.aborted) await args.hooks.onCheckpoint(done);
      if (args.signal?.aborted && done < T) throw new RunInterruptedError(done, T);
    }
  } finally {
    task?.stop();
  }
}
