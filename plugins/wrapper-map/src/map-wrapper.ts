import { tf } from '@bayes-peft/tensor';
import {
  LinearWarmupDecay,
  NonFiniteLossError,
  TOKENS,
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
import {
  assignLoraFromPeft,
  checkAdapterCompatible,
  installLora,
  loadPeftAdapter,
  loraPeftTensors,
  removeAdapters,
  savePeftAdapter,
  type LoraAdapter,
} from '@bayes-peft/lora';
import { inject, injectable } from 'tsyringe';
import { gaussianPriorPenalty } from './map-math';
import { MAP_OPTIONS, type MapOptions } from './options';

let instances = 0;

/** Optimizer state of a MAP run, for resuming (not part of the PEFT adapter). */
export type MapTrainingState = {
  readonly optimizer: OptimizerState;
};

/**
 * MAP LoRA (REFERENCE-SPEC 4.2): maximum likelihood plus weight decay (default 1e-5, the
 * reference's MAP) and, with `priorStd`, a Gaussian prior term on the adapter. The maths is in
 * map-math.ts. One deterministic pass per step, one optimizer (the plan's) with the linear
 * warmup/decay schedule.
 */
@injectable()
export class MapWrapper implements Wrapper {
  readonly name = 'map';
  readonly averaging = 'probs' as const;
  private backbone: Backbone | null = null;
  private readonly loras = new Map<string, LoraAdapter>();
  private optimizer: Optimizer | null = null;
  private schedule: LinearWarmupDecay | null = null;
  private numExamples = 0;
  private readonly rng: Rng;
  private readonly prefix: string;
  private predictCalls = 0;

  constructor(
    @inject(TOKENS.RunContext) private readonly run: RunContext,
    @inject(TOKENS.LoraConfig) private readonly lora: LoraConfig,
    @inject(MAP_OPTIONS) readonly options: MapOptions,
  ) {
    this.rng = run.rng.child('wrapper-map');
    this.prefix = `map${instances++}`;
  }

  attach(backbone: Backbone): void {
    if (this.backbone) throw new Error('map: attach() was already called; one wrapper serves one backbone');
    this.backbone = backbone;
    // LoRA init from the run's 'lora' stream, so MLE, MAP and BLoB runs with one seed start alike.
    let installed!: ReturnType<typeof installLora>;
    tf.tidy(() => {
      installed = installLora(backbone, this.lora, this.run.rng.child('lora'), undefined, this.prefix);
    });
    for (const [name, { lora }] of installed) this.loras.set(name, lora);
  }

  /** The plan's optimizer with this wrapper's weight decay (the option wins over train.weightDecay). */
  prepare(plan: TrainingPlan): void {
    this.requireBackbone('prepare');
    const wd = this.options.weightDecay;
    if (plan.weightDecay !== 0 && plan.weightDecay !== wd) {
      this.run.log.warn(`map: train.weightDecay ${plan.weightDecay} is ignored; the wrapper's weightDecay ${wd} applies (set wrapper.options.weightDecay)`);
    }
    this.optimizer?.dispose();
    this.optimizer = createOptimizer(plan.optimizer, referenceParamGroups(this.variables(), wd), { lr: plan.lr, eps: plan.adamEpsilon });
    this.schedule = new LinearWarmupDecay(plan.lr, { totalSteps: plan.totalSteps, warmupSteps: plan.warmupSteps });
    this.numExamples = plan.numTrainExamples;
    if (this.options.priorStd !== null && !(this.numExamples > 0)) {
      throw new Error(`map: priorStd needs the number of training examples, and the plan has ${plan.numTrainExamples}`);
    }
  }

  trainStep(batch: McqBatch, step: number): TrainStepResult {
    const backbone = this.requireBackbone('trainStep');
    if (!this.optimizer || !this.schedule) throw new Error('map: trainStep() before prepare(plan)');
    const optimizer = this.optimizer;
    const lr = this.schedule.lr(step);
    const ctx: ForwardContext = { training: true, rng: this.rng.child(`train/${step}`) };
    const vars = this.variables();
    const priorStd = this.options.priorStd;
    const kept: { logits?: tf.Tensor; nll?: tf.Scalar; prior?: tf.Scalar } = {};
    try {
      const [nll, prior] = tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const logits = backbone.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx });
          kept.logits = tf.keep(logits);
          const n = (kept.nll = tf.keep(classNll(logits, batch.labels)));
          if (priorStd === null) return n;
          const p = (kept.prior = tf.keep(gaussianPriorPenalty(vars, priorStd, this.numExamples)));
          return tf.add(n, p) as tf.Scalar;
        }, vars);
        const n = kept.nll!.dataSync()[0];
        const p = kept.prior ? kept.prior.dataSync()[0] : 0;
        if (!Number.isFinite(n) || !Number.isFinite(p)) {
          const values: Record<string, number> = { nll: n };
          if (kept.prior) values.prior = p;
          throw new NonFiniteLossError(step + 1, values, 'map: the adapter was not updated');
        }
        optimizer.step(grads, lr);
        tf.dispose(grads);
        return [n, p];
      });
      const result: Record<string, number> = { loss: nll + prior, nll, acc: classAccuracy(kept.logits!, batch.labels), lr };
      if (priorStd !== null) result.prior = prior;
      return result as TrainStepResult;
    } finally {
      tf.dispose([kept.logits, kept.nll, kept.prior].filter((t): t is tf.Tensor => !!t));
    }
  }

  /** Logits [B, 1, C]: one deterministic pass (the MAP point estimate). */
  predict(batch: McqBatch, _options: PredictOptions): tf.Tensor3D {
    const backbone = this.requireBackbone('predict');
    const ctx: ForwardContext = { training: false, rng: this.rng.child(`predict/${this.predictCalls++}`) };
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
    await savePeftAdapter(dir, { config: this.lora, baseModel: backbone.id, tensors: loraPeftTensors(this.loras), meta: { wrapper: 'map', options: this.options } });
  }

  /** Loads A and B of every site (any LoRA adapter in the PEFT layout; a BLoB adapter gives its mean). */
  async load(dir: string): Promise<void> {
    this.requireBackbone('load');
    const files = await loadPeftAdapter(dir);
    checkAdapterCompatible(files.config, this.lora, dir);
    const from = typeof files.meta.wrapper === 'string' ? files.meta.wrapper : null;
    if (from && from !== 'map' && from !== 'mle') this.run.log.info(`map: ${dir} holds a '${from}' adapter; loading its LoRA mean (A, B) only`);
    assignLoraFromPeft(files, this.loras);
  }

  getTrainingState(): MapTrainingState | null {
    return this.optimizer ? { optimizer: this.optimizer.getState() } : null;
  }

  setTrainingState(state: MapTrainingState): void {
    if (!this.optimizer) throw new Error('map: setTrainingState() before prepare(plan)');
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

  private requireBackbone(what: string): Backbone {
    if (!this.backbone) throw new Error(`map: ${what}() before attach(backbone)`);
    return this.backbone;
  }
}
