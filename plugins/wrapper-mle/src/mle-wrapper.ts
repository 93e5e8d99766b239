import { tf } from '@bayes-peft/tensor';
import {
  LinearWarmupDecay,
  TOKENS,
  createOptimizer,
  referenceParamGroups,
  type Backbone,
  type EncodedBatch,
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
  type EvalPhase,
  NonFiniteLossError,
  classAccuracy,
  classNll,
} from '@bayes-peft/core';
import { inject, injectable } from 'tsyringe';
import {
  assignLoraFromPeft,
  checkAdapterCompatible,
  installLora,
  loadPeftAdapter,
  loraPeftTensors,
  savePeftAdapter,
  type LoraAdapter,
} from '@bayes-peft/lora';
import { MLE_OPTIONS, type MleOptions } from './options';

let instances = 0;

/** Optimizer state of a wrapper, for resuming a run (not part of the PEFT adapter). */
export type MleTrainingState = {
  readonly optimizer: OptimizerState;
};

/**
 * Maximum-likelihood LoRA (REFERENCE-SPEC 4.2); MAP is the same with training weight decay 1e-5.
 * One deterministic pass: trainStep minimises the NLL of log_softmax over the class tokens' logits
 * at the last position, averaged over the batch, with the plan's optimizer (AdamW by default)
 * under the linear warmup/decay schedule.
 */
@injectable()
export class MleWrapper implements Wrapper {
  readonly name = 'mle';
  readonly averaging = 'probs' as const;
  private backbone: Backbone | null = null;
  private readonly loras = new Map<string, LoraAdapter>();
  private optimizer: Optimizer | null = null;
  private schedule: LinearWarmupDecay | null = null;
  private readonly rng: Rng;
  private readonly prefix: string;
  private predictCalls = 0;

  constructor(
    @inject(TOKENS.RunContext) private readonly run: RunContext,
    @inject(TOKENS.LoraConfig) private readonly lora: LoraConfig,
    @inject(MLE_OPTIONS) readonly options: MleOptions,
  ) {
    this.rng = run.rng.child('wrapper-mle');
    this.prefix = `mle${instances++}`;
  }

  attach(backbone: Backbone): void {
    if (this.backbone) throw new Error('mle: attach() was already called; one wrapper serves one backbone');
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
    this.optimizer = createOptimizer(plan.optimizer, referenceParamGroups(this.variables(), plan.weightDecay), {
      lr: plan.lr,
      eps: plan.adamEpsilon,
    });
    this.schedule = new LinearWarmupDecay(plan.lr, { totalSteps: plan.totalSteps, warmupSteps: plan.warmupSteps });
  }

  trainStep(batch: McqBatch, step: number): TrainStepResult {
    const backbone = this.requireBackbone('trainStep');
    if (!this.optimizer || !this.schedule) throw new Error('mle: trainStep() before prepare(plan)');
    const optimizer = this.optimizer;
    const lr = this.schedule.lr(step);
    const ctx: ForwardContext = { training: true, rng: this.rng.child(`train/${step}`) };
    const vars = this.variables();
    const kept: { logits?: tf.Tensor } = {};
    try {
      const nll = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const out = backbone.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx });
          kept.logits = tf.keep(out);
          return classNll(out, batch.labels);
        }, vars);
        const v = value.dataSync()[0];
        if (!Number.isFinite(v)) {
          throw new NonFiniteLossError(step + 1, { nll: v }, 'mle: the adapter was not updated');
        }
        optimizer.step(grads, lr);
        tf.dispose(grads);
        return v;
      });
      return { loss: nll, nll, acc: classAccuracy(kept.logits!, batch.labels), lr };
    } finally {
      kept.logits?.dispose();
    }
  }

  predict(batch: McqBatch, _options: PredictOptions): tf.Tensor3D {
    const backbone = this.requireBackbone('predict');
    const ctx: ForwardContext = { training: false, rng: this.rng.child(`predict/${this.predictCalls++}`) };
    return tf.tidy(() => tf.expandDims(backbone.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx }), 1) as tf.Tensor3D);
  }

  async generate(batch: EncodedBatch, options: GenerateOptions & { phase: EvalPhase }): Promise<GenerationResult[][]> {
    const backbone = this.requireBackbone('generate');
    const { phase: _phase, ...rest } = options;
    const results = await backbone.generate(batch, { ...rest, ctx: { training: false, rng: options.ctx.rng } });
    return results.map((r) => [r]);
  }

  async save(dir: string): Promise<void> {
    const backbone = this.requireBackbone('save');
    await savePeftAdapter(dir, { config: this.lora, baseModel: backbone.id, tensors: loraPeftTensors(this.loras), meta: { wrapper: 'mle', options: this.options } });
  }

  async load(dir: string): Promise<void> {
    this.requireBackbone('load');
    const files = await loadPeftAdapter(dir);
    checkAdapterCompatible(files.config, this.lora, dir);
    const from = typeof files.meta.wrapper === 'string' ? files.meta.wrapper : null;
    if (from && from !== 'mle') this.run.log.info(`mle: ${dir} holds a '${from}' adapter; loading its LoRA mean (A, B) only`);
    assignLoraFromPeft(files, this.loras);
  }

  /** Optimizer state for a resumable checkpoint; null before prepare(). */
  getTrainingState(): MleTrainingState | null {
    return this.optimizer ? { optimizer: this.optimizer.getState() } : null;
  }

  setTrainingState(state: MleTrainingState): void {
    if (!this.optimizer) throw new Error('mle: setTrainingState() before prepare(plan)');
    this.optimizer.setState(state.optimizer);
  }

  variables(): tf.Variable[] {
    return [...this.loras.values()].flatMap((l) => l.variables());
  }

  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = null;
    if (this.backbone) {
      const mine = new Set<unknown>(this.loras.values());
      for (const site of this.backbone.sites()) if (mine.has(site.adapter)) site.adapter = null;
    }
    for (const l of this.loras.values()) l.dispose();
    this.loras.clear();
    this.backbone = null;
  }

  private requireBackbone(what: string): Backbone {
    if (!this.backbone) throw new Error(`mle: ${what}() before attach(backbone)`);
    return this.backbone;
  }
}

/** The saved adapter must match the run's rank, alpha and targets (kept for callers of 0.1.0; it lives in @bayes-peft/lora). */
export { checkAdapterCompatible as checkCompatible } from '@bayes-peft/lora';
