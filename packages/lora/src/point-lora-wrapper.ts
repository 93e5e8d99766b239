import { tf } from '@bayes-peft/tensor';
import {
  requireSampledForward,
  LinearWarmupDecay,
  NonFiniteLossError,
  classAccuracy,
  classNll,
  createOptimizer,
  referenceParamGroups,
  type Backbone,
  type EncodedBatch,
  type EvalPhase,
  type ForwardContext,
  type GenerateOptions,
  type GenerationResult,
  type LoraConfig,
  type McqBatch,
  type Optimizer,
  type OptimizerState,
  type PredictOptions,
  type Rng,
  type RunContext,
  type TrainingPlan,
  type TrainStepResult,
  type Wrapper,
} from '@bayes-peft/core';
import { checkAdapterCompatible } from './check-compatible';
import { installLora, removeAdapters } from './install';
import type { LoraAdapter } from './lora-adapter';
import { assignLoraFromPeft, loraPeftTensors } from './lora-tensors';
import { loadPeftAdapter, savePeftAdapter } from './peft-format';

/** Optimizer state of a point-estimate wrapper, for resuming (not part of the PEFT adapter). */
export type PointLoraTrainingState = {
  readonly optimizer: OptimizerState;
};

const instances = new Map<string, number>();

/**
 * The machinery shared by LoRA methods that learn one point estimate with one optimizer (MLE,
 * MAP): install LoRA, the plan's optimizer with the linear warmup/decay schedule, a step on the
 * class-token NLL (plus an optional extra term), one deterministic prediction, the PEFT layout.
 * A subclass names itself and may add a loss term or change the weight decay.
 */
export abstract class PointLoraWrapper implements Wrapper {
  abstract readonly name: string;
  readonly averaging = 'probs' as const;
  readonly engines = ['tfjs', 'onnxruntime'] as const;
  protected backbone: Backbone | null = null;
  protected readonly loras = new Map<string, LoraAdapter>();
  protected optimizer: Optimizer | null = null;
  protected schedule: LinearWarmupDecay | null = null;
  protected readonly rng: Rng;
  private readonly prefix: string;

  constructor(
    protected readonly run: RunContext,
    protected readonly lora: LoraConfig,
    readonly options: object,
    method: string,
  ) {
    this.rng = run.rng.child(`wrapper-${method}`);
    const n = instances.get(method) ?? 0;
    instances.set(method, n + 1);
    this.prefix = `${method}${n}`;
  }

  /** Weight decay for the optimizer's groups; the plan's unless a method overrides it. */
  protected weightDecay(plan: TrainingPlan): number {
    return plan.weightDecay;
  }

  /** An extra loss term added to the NLL (MAP's prior), reported under its name; none by default. */
  protected extraLoss(_vars: tf.Variable[]): { name: string; value: tf.Scalar } | null {
    return null;
  }

  /** Adapter folders of these wrappers load silently; others are announced as "mean only". */
  protected compatibleSources(): readonly string[] {
    return [this.name];
  }

  attach(backbone: Backbone): void {
    if (this.backbone) throw new Error(`${this.name}: attach() was already called; one wrapper serves one backbone`);
    this.backbone = backbone;
    // LoRA init draws from the run's 'lora' stream, so MLE, MAP and BLoB runs with one seed start alike.
    let installed!: ReturnType<typeof installLora>;
    tf.tidy(() => {
      installed = installLora(backbone, this.lora, this.run.rng.child('lora'), undefined, this.prefix);
    });
    for (const [name, { lora }] of installed) this.loras.set(name, lora);
  }

  prepare(plan: TrainingPlan): void {
    this.requireBackbone('prepare');
    this.optimizer?.dispose();
    this.optimizer = createOptimizer(plan.optimizer, referenceParamGroups(this.variables(), this.weightDecay(plan)), {
      lr: plan.lr,
      eps: plan.adamEpsilon,
    });
    this.schedule = new LinearWarmupDecay(plan.lr, { totalSteps: plan.totalSteps, warmupSteps: plan.warmupSteps });
  }

  trainStep(batch: McqBatch, step: number): TrainStepResult {
    const backbone = this.requireBackbone('trainStep');
    if (!this.optimizer || !this.schedule) throw new Error(`${this.name}: trainStep() before prepare(plan)`);
    const optimizer = this.optimizer;
    const lr = this.schedule.lr(step);
    const ctx: ForwardContext = { training: true, rng: this.rng.child(`train/${step}`) };
    const vars = this.variables();
    const kept: { logits?: tf.Tensor; nll?: tf.Scalar; extra?: tf.Scalar } = {};
    let extraName: string | null = null;
    try {
      const [nll, extra] = tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const logits = backbone.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx });
          kept.logits = tf.keep(logits);
          const n = (kept.nll = tf.keep(classNll(logits, batch.labels)));
          const term = this.extraLoss(vars);
          if (!term) return n;
          extraName = term.name;
          kept.extra = tf.keep(term.value);
          return tf.add(n, term.value) as tf.Scalar;
        }, vars);
        const n = kept.nll!.dataSync()[0];
        const e = kept.extra ? kept.extra.dataSync()[0] : 0;
        if (!Number.isFinite(n) || !Number.isFinite(e)) {
          const values: Record<string, number> = { nll: n };
          if (extraName) values[extraName] = e;
          throw new NonFiniteLossError(step + 1, values, `${this.name}: the adapter was not updated`);
        }
        optimizer.step(grads, lr);
        tf.dispose(grads);
        return [n, e];
      });
      const result: Record<string, number> = { loss: nll + extra, nll, acc: classAccuracy(kept.logits!, batch.labels), lr };
      if (extraName) result[extraName] = extra;
      return result as TrainStepResult;
    } finally {
      tf.dispose([kept.logits, kept.nll, kept.extra].filter((t): t is tf.Tensor => !!t));
    }
  }

  /** Logits [B, 1, C]: one deterministic pass (the point estimate); a promise with engine 'onnxruntime'. */
  predict(batch: McqBatch, options: PredictOptions & { engine?: 'tfjs' }): tf.Tensor3D;
  predict(batch: McqBatch, options: PredictOptions): tf.Tensor3D | Promise<tf.Tensor3D>;
  predict(batch: McqBatch, options: PredictOptions): tf.Tensor3D | Promise<tf.Tensor3D> {
    const backbone = this.requireBackbone('predict');
    // The run's k-th predict draws from predict/k; k is part of the run's Rng state, which checkpoints save (see Rng.nextChild).
    const ctx: ForwardContext = { training: false, rng: this.rng.nextChild('predict') };
    if (options.engine === 'onnxruntime') {
      return requireSampledForward(backbone, this.name)(batch.tokens, { samples: 1, columns: batch.targetIds, ctx });
    }
    return tf.tidy(() => tf.expandDims(backbone.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx }), 1) as tf.Tensor3D);
  }

  /** One generation per prompt ([B][1]). */
  async generate(batch: EncodedBatch, options: GenerateOptions & { phase: EvalPhase }): Promise<GenerationResult[][]> {
    const backbone = this.requireBackbone('generate');
    const { phase: _phase, ...rest } = options;
    const results = await backbone.generate(batch, { ...rest, ctx: { training: false, rng: options.ctx.rng } });
    return results.map((r) => [r]);
  }

  async save(dir: string): Promise<void> {
    const backbone = this.requireBackbone('save');
    await savePeftAdapter(dir, { config: this.lora, baseModel: backbone.id, tensors: loraPeftTensors(this.loras), meta: { wrapper: this.name, options: this.options } });
  }

  /** Loads A and B of every site (any LoRA adapter in the PEFT layout; a BLoB adapter gives its mean). */
  async load(dir: string): Promise<void> {
    this.requireBackbone('load');
    const files = await loadPeftAdapter(dir);
    checkAdapterCompatible(files.config, this.lora, dir);
    const from = typeof files.meta.wrapper === 'string' ? files.meta.wrapper : null;
    if (from && !this.compatibleSources().includes(from)) {
      this.run.log.info(`${this.name}: ${dir} holds a '${from}' adapter; loading its LoRA mean (A, B) only`);
    }
    assignLoraFromPeft(files, this.loras);
  }

  /** Optimizer state for a resumable checkpoint; null before prepare(). */
  getTrainingState(): PointLoraTrainingState | null {
    return this.optimizer ? { optimizer: this.optimizer.getState() } : null;
  }

  setTrainingState(state: PointLoraTrainingState): void {
    if (!this.optimizer) throw new Error(`${this.name}: setTrainingState() before prepare(plan)`);
    this.optimizer.setState(state.optimizer);
  }

  variables(): tf.Variable[] {
    return [...this.loras.values()].flatMap((l) => l.variables());
  }

  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = null;
    this.schedule = null;
    if (this.backbone) removeAdapters(this.backbone, this.loras.values());
    for (const l of this.loras.values()) l.dispose();
    this.loras.clear();
    this.backbone = null;
  }

  protected requireBackbone(what: string): Backbone {
    if (!this.backbone) throw new Error(`${this.name}: ${what}() before attach(backbone)`);
    return this.backbone;
  }
}
