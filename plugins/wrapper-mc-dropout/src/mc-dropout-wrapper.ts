import { tf } from '@bayes-peft/tensor';
import {
  requireSampledForward,
  LinearWarmupDecay,
  NonFiniteLossError,
  TOKENS,
  UserError,
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
import { McDropoutAdapter } from './mc-dropout-adapter';
import { MC_DROPOUT_OPTIONS, type McDropoutOptions } from './options';

let instances = 0;

/** Optimizer state of an MC dropout run, for resuming (not part of the PEFT adapter). */
export type McDropoutTrainingState = {
  readonly optimizer: OptimizerState;
};

/**
 * MC dropout (REFERENCE-SPEC 4.3): LoRA trained with dropout on its input, the dropout kept on
 * at evaluation; `predict` returns S passes (evalSamples / evalSamplesFinal), each with fresh
 * masks, and the runner averages their probabilities. The maths is in dropout-math.ts.
 */
@injectable()
export class McDropoutWrapper implements Wrapper {
  readonly name = 'mc-dropout';
  readonly averaging = 'probs' as const;
  readonly engines = ['tfjs', 'onnxruntime'] as const;
  /** The LoRA config the adapters are built with: the run's, with this wrapper's dropout. */
  readonly loraConfig: LoraConfig;
  private backbone: Backbone | null = null;
  private readonly layers = new Map<string, McDropoutAdapter>();
  private optimizer: Optimizer | null = null;
  private schedule: LinearWarmupDecay | null = null;
  private readonly rng: Rng;
  private readonly prefix: string;

  constructor(
    @inject(TOKENS.RunContext) private readonly run: RunContext,
    @inject(TOKENS.LoraConfig) lora: LoraConfig,
    @inject(MC_DROPOUT_OPTIONS) readonly options: McDropoutOptions,
  ) {
    const p = options.dropout;
    if (!(p > 0 && p < 1)) {
      throw new UserError(`mc-dropout: wrapper.options.dropout must be in (0, 1), got ${p}; with 0 every pass is the same and there is nothing to sample`);
    }
    if (lora.dropout !== 0 && lora.dropout !== p) {
      throw new UserError(
        `mc-dropout: lora.dropout ${lora.dropout} conflicts with the wrapper's dropout ${p}. MC dropout sets the LoRA dropout itself ` +
          `(wrapper.options.dropout, default 0.1): leave lora.dropout at 0 or make it equal`,
      );
    }
    this.loraConfig = { ...lora, dropout: p };
    this.rng = run.rng.child('wrapper-mc-dropout');
    this.prefix = `mcd${instances++}`;
  }

  attach(backbone: Backbone): void {
    if (this.backbone) throw new Error('mc-dropout: attach() was already called; one wrapper serves one backbone');
    this.backbone = backbone;
    // LoRA init from the run's 'lora' stream, as MLE, MAP and BLoB.
    let installed!: ReturnType<typeof installLora<McDropoutAdapter>>;
    tf.tidy(() => {
      installed = installLora(backbone, this.loraConfig, this.run.rng.child('lora'), (lora) => new McDropoutAdapter(lora, this.options.dropout), this.prefix);
    });
    for (const [name, { adapter }] of installed) this.layers.set(name, adapter);
  }

  prepare(plan: TrainingPlan): void {
    this.requireBackbone('prepare');
    this.optimizer?.dispose();
    this.optimizer = createOptimizer(plan.optimizer, referenceParamGroups(this.variables(), plan.weightDecay), { lr: plan.lr, eps: plan.adamEpsilon });
    this.schedule = new LinearWarmupDecay(plan.lr, { totalSteps: plan.totalSteps, warmupSteps: plan.warmupSteps });
  }

  /** One pass with dropout, NLL of the class logits, one optimizer step (the reference's base fit). */
  trainStep(batch: McqBatch, step: number): TrainStepResult {
    const backbone = this.requireBackbone('trainStep');
    if (!this.optimizer || !this.schedule) throw new Error('mc-dropout: trainStep() before prepare(plan)');
    const optimizer = this.optimizer;
    const lr = this.schedule.lr(step);
    const ctx: ForwardContext = { training: true, rng: this.rng.child(`train/${step}`) };
    const vars = this.variables();
    const kept: { logits?: tf.Tensor } = {};
    try {
      const nll = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const logits = backbone.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx });
          kept.logits = tf.keep(logits);
          return classNll(logits, batch.labels);
        }, vars);
        const v = value.dataSync()[0];
        if (!Number.isFinite(v)) throw new NonFiniteLossError(step + 1, { nll: v }, 'mc-dropout: the adapter was not updated');
        optimizer.step(grads, lr);
        tf.dispose(grads);
        return v;
      });
      return { loss: nll, nll, acc: classAccuracy(kept.logits!, batch.labels), lr };
    } finally {
      kept.logits?.dispose();
    }
  }

  /** Logits [B, S, C]: S dropout passes (evalSamples for intermediate, evalSamplesFinal for final evaluations). */
  predict(batch: McqBatch, options: PredictOptions & { engine?: 'tfjs' }): tf.Tensor3D;
  predict(batch: McqBatch, options: PredictOptions): tf.Tensor3D | Promise<tf.Tensor3D>;
  predict(batch: McqBatch, options: PredictOptions): tf.Tensor3D | Promise<tf.Tensor3D> {
    const backbone = this.requireBackbone('predict');
    const S = this.samplesFor(options.phase);
    // The run's k-th predict draws from predict/k; k is part of the run's Rng state, which checkpoints save (see Rng.nextChild).
    const rng = this.rng.nextChild('predict');
    const sampleContext = (s: number): ForwardContext => ({ training: false, rng: rng.child(`sample-${s}`) });
    if (options.engine === 'onnxruntime') {
      // Every pass in one onnxruntime run, each drawing its masks from its own stream as below.
      return requireSampledForward(backbone, this.name)(batch.tokens, { samples: S, columns: batch.targetIds, ctx: sampleContext(0), sampleContext });
    }
    return tf.tidy(() => {
      const out: tf.Tensor[] = [];
      for (let s = 0; s < S; s++) {
        out.push(backbone.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx: sampleContext(s) }));
      }
      return tf.stack(out, 1) as tf.Tensor3D;
    });
  }

  /**
   * S generations per prompt ([B][S]); generation s of a prompt runs under one dropout mask per
   * site fixed for that sequence (every position and decoding step), drawn afresh per sample.
   */
  async generate(batch: EncodedBatch, options: GenerateOptions & { phase: EvalPhase }): Promise<GenerationResult[][]> {
    const backbone = this.requireBackbone('generate');
    const { phase, ...rest } = options;
    const S = this.samplesFor(phase);
    // This call's masks: generate/<k>/<sample>/<site> for the run's k-th generate (see Rng.nextChild).
    const call = this.rng.nextChild('generate');
    const sampleContext = (s: number): ForwardContext => ({ training: false, rng: S === 1 ? options.ctx.rng : options.ctx.rng.child(`sample/${s}`) });
    const maskRng = (s: number, name: string) => call.child(`${s}/${name}`);
    if (options.engine === 'onnxruntime' && backbone.sampledGenerate) {
      // Every pass's sequences decoded together, each under its own per-sequence masks as below.
      for (const [name, layer] of this.layers) layer.fixMaskSamples(batch.ids.length, Array.from({ length: S }, (_, s) => maskRng(s, name)));
      try {
        return await backbone.sampledGenerate(batch, { ...rest, samples: S, sampleContext });
      } finally {
        for (const layer of this.layers.values()) layer.releaseMask();
      }
    }
    const out: GenerationResult[][] = batch.ids.map(() => []);
    for (let s = 0; s < S; s++) {
      for (const [name, layer] of this.layers) layer.fixMask(batch.ids.length, maskRng(s, name));
      try {
        const results = await backbone.generate(batch, { ...rest, ctx: sampleContext(s) });
        results.forEach((r, b) => out[b].push(r));
      } finally {
        for (const layer of this.layers.values()) layer.releaseMask();
      }
    }
    return out;
  }

  async save(dir: string): Promise<void> {
    const backbone = this.requireBackbone('save');
    await savePeftAdapter(dir, {
      config: this.loraConfig,
      baseModel: backbone.id,
      tensors: loraPeftTensors(this.loras()),
      meta: { wrapper: 'mc-dropout', options: this.options },
    });
  }

  /** Loads A and B of every site from any LoRA adapter in the PEFT layout; the dropout rate stays this run's. */
  async load(dir: string): Promise<void> {
    this.requireBackbone('load');
    const files = await loadPeftAdapter(dir);
    checkAdapterCompatible(files.config, this.loraConfig, dir);
    const from = typeof files.meta.wrapper === 'string' ? files.meta.wrapper : null;
    if (from && from !== 'mc-dropout') this.run.log.info(`mc-dropout: ${dir} holds a '${from}' adapter; loading its LoRA (A, B) and sampling it with dropout ${this.options.dropout}`);
    assignLoraFromPeft(files, this.loras());
  }

  getTrainingState(): McDropoutTrainingState | null {
    return this.optimizer ? { optimizer: this.optimizer.getState() } : null;
  }

  setTrainingState(state: McDropoutTrainingState): void {
    if (!this.optimizer) throw new Error('mc-dropout: setTrainingState() before prepare(plan)');
    this.optimizer.setState(state.optimizer);
  }

  /** The MC dropout adapters by site name, for inspection and tests. */
  adapters(): ReadonlyMap<string, McDropoutAdapter> {
    return this.layers;
  }

  variables(): tf.Variable[] {
    return [...this.layers.values()].flatMap((l) => l.variables());
  }

  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = null;
    this.schedule = null;
    if (this.backbone) removeAdapters(this.backbone, this.layers.values());
    for (const l of this.layers.values()) l.dispose();
    this.layers.clear();
    this.backbone = null;
  }

  private loras(): Map<string, LoraAdapter> {
    return new Map([...this.layers].map(([site, l]) => [site, l.lora]));
  }

  private samplesFor(phase: EvalPhase): number {
    return phase === 'final' ? this.options.evalSamplesFinal : this.options.evalSamples;
  }

  private requireBackbone(what: string): Backbone {
    if (!this.backbone) throw new Error(`mc-dropout: ${what}() before attach(backbone)`);
    return this.backbone;
  }
}
