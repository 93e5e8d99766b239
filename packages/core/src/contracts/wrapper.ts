import type { tf } from '@bayes-peft/tensor';
import type { OptimizerState } from '../optim/optimizer';
import type { Backbone, EncodedBatch, GenerateOptions, GenerationResult, TokenBatch } from './backbone';

/** A batch of multiple-choice examples ready for the device. Owned by the runner. */
export interface McqBatch {
  /** Optional so batches built before open-ended training existed still type-check; absent means 'mcq'. */
  readonly kind?: 'mcq';
  readonly ids: readonly string[];
  readonly tokens: TokenBatch;
  /** int32 [B] class indices. */
  readonly labels: tf.Tensor1D;
  /** Vocabulary id of each class's answer token, [C]. */
  readonly targetIds: readonly number[];
}

/** A batch of training texts for next-token training on the answer only. Owned by the runner. */
export interface AnswerBatch {
  readonly kind: 'answer';
  readonly ids: readonly string[];
  /** Inputs [B, T], left padded. */
  readonly tokens: TokenBatch;
  /** int32 [B, T]: the token position t predicts (input t+1); a separate tensor, never the inputs (defect 5); 0 where unscored. */
  readonly targets: tf.Tensor2D;
  /** float32 [B, T]: 1 where position t's next token is an answer token (EOS included), 0 for prompt, padding, chat header and the last position. */
  readonly weights: tf.Tensor2D;
}

/** What `Wrapper.trainStep` trains on: class logits of a multiple-choice batch, or the answer tokens of training texts. */
export type TrainBatch = McqBatch | AnswerBatch;

/** Static facts about the training run a wrapper needs to build optimizers and KL weights. */
export interface TrainingPlan {
  readonly totalSteps: number;
  readonly warmupSteps: number;
  readonly stepsPerEpoch: number;
  readonly batchSize: number;
  /** Training examples the loader yields per epoch (BLoB's N). */
  readonly numTrainExamples: number;
  readonly lr: number;
  readonly weightDecay: number;
  readonly adamEpsilon: number;
  readonly optimizer: 'adamw' | 'adam' | 'sgd';
}

/** Scalars of one training step; every value is finite or the runner stops. */
export interface TrainStepResult {
  readonly loss: number;
  readonly nll: number;
  readonly [metric: string]: number;
}

/** Host copies of a wrapper's optimizers, by a name of the wrapper's choosing. */
export type TrainingState = { readonly [name: string]: OptimizerState | null };

export type EvalPhase = 'intermediate' | 'final';

export interface PredictOptions {
  readonly phase: EvalPhase;
}

export interface WrapperGenerateOptions extends GenerateOptions {
  readonly phase: EvalPhase;
  /**
   * Answers per prompt. A method with fewer weight samples of its own (a deterministic one, an
   * ensemble of fewer members) reuses them: answer s uses weight sample s mod its count, and
   * differs from the others by its token draws.
   */
  readonly samples?: number;
}

/** How per-sample predictions are combined into one distribution. */
export type AveragingRule = 'probs' | 'logits';

/**
 * The anchor set (the dataset's 'anchor' split) for `Wrapper.calibrate`: each call starts a fresh
 * pass over the batches. A batch is the runner's: valid until the next one is requested (or the
 * loop ends), then disposed. Multiple-choice batches for a multiple-choice dataset, answer
 * batches for an open-ended one (never both in one pass).
 */
export type AnchorBatches = () => AsyncIterable<TrainBatch>;

export interface CalibrationContext {
  /** Examples in the anchor set (the sum of the batches' sizes). */
  readonly numExamples: number;
}

/** One line of a calibration log: written to metrics.jsonl as `{ phase: 'calibrate', ...entry }`. */
export type CalibrationEntry = { readonly [key: string]: number | boolean | string | null };

export interface CalibrationResult {
  /** One entry per step (e.g. per searched value), in order. */
  readonly log: readonly CalibrationEntry[];
  /** What calibration settled on (e.g. `{ beta: 0.01 }`); results.json keeps it as `calibration`. */
  readonly summary: CalibrationEntry;
}

/**
 * A UQ method: owns its adapters and optimizers, trains on batches, predicts with weight
 * samples. Everything a wrapper computes for a step is tidied; tensors it keeps are variables.
 */
export interface Wrapper {
  readonly name: string;
  /** How `predict`'s samples are averaged (docs/methods.md, 'Metrics'; deep ensembles may use logits). */
  readonly averaging: AveragingRule;
  /** Installs adapters on the backbone's sites (random initialisation from the run's RNG). */
  attach(backbone: Backbone): void;
  /** Builds optimizers and schedules; called once before the first step (not for eval-only runs). */
  prepare(plan: TrainingPlan): void;
  /**
   * One optimizer step on `batch` (zero-based `step`): the class NLL of a multiple-choice batch
   * or the mean answer-token NLL of an answer batch (core's `trainObjective` computes either).
   */
  trainStep(batch: TrainBatch, step: number): TrainStepResult;
  /**
   * Logits over the classes for each weight sample: [B, S, C], through the backbone's
   * `sampledForward` (whatever engine the run evaluates on). Caller disposes.
   */
  predict(batch: McqBatch, options: PredictOptions): Promise<tf.Tensor3D>;
  /**
   * Logits over the classes of the posterior mean ([B, C]: one deterministic pass, no weight
   * sample). Methods that have a mean beside their samples (BLoB, TFB) give it, and the final
   * evaluation reports `val_flip_ratio`, the share of predictions the sampling changes. It draws
   * nothing from the run's random streams, so it leaves every later draw as it was. Caller disposes.
   */
  predictMean?(batch: McqBatch): Promise<tf.Tensor2D>;
  /**
   * One generation per prompt per weight sample ([B][S]); the weight sample is fixed per sequence.
   * S is `options.samples` when given (open-ended evaluation asks every method for the same number
   * of answers per question), else the method's own count for the phase.
   */
  generate(batch: EncodedBatch, options: WrapperGenerateOptions): Promise<GenerationResult[][]>;
  /** Writes the adapter(s) in the PEFT layout. */
  save(dir: string): Promise<void>;
  load(dir: string): Promise<void>;
  /**
   * Optimizer states by name after the last step, so an interrupted run resumes where its last
   * checkpoint left it. A wrapper without them restarts interrupted runs from step 0.
   */
  getTrainingState?(): TrainingState | null;
  setTrainingState?(state: TrainingState): void;
  /**
   * A method that never trains (TFB: it Bayesianizes a loaded adapter). The runner skips
   * training for it (a positive train.steps is ignored with a warning).
   */
  readonly trainingFree?: boolean;
  /**
   * Fits what the method needs from held-out data after training and before the final
   * evaluation (TFB's search for its noise scale); the runner passes the dataset's 'anchor'
   * split and appends the returned log to metrics.jsonl.
   */
  calibrate?(anchor: AnchorBatches, ctx: CalibrationContext): Promise<CalibrationResult>;
  /** Trainable tensors, for leak checks and inspection. */
  variables(): tf.Variable[];
  dispose(): void;
}
