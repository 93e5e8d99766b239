import {
  LinearWarmupDecay,
  NonFiniteLossError,
  TOKENS,
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
import { tf } from '@bayes-peft/tensor';
import { inject, injectable } from 'tsyringe';
import { smoothedNll } from './loss';
import { {{constName}}_OPTIONS, type {{className}}Options } from './options';

/** Variable names must be unique in the TensorFlow.js engine; each instance gets its own prefix. */
let instances = 0;

/**
 * Plain LoRA trained by maximum likelihood (with optional label smoothing): the starting point
 * for a new method. The runner drives it as
 *
 *   attach(backbone) -> [load(adapter)] -> prepare(plan) -> trainStep(batch, step) x T
 *     -> predict(batch, { phase }) / generate(...) -> save(dir) at checkpoints -> dispose()
 *
 * A Bayesian method usually changes three places: attach (install adapters that sample, e.g.
 * a mean and a scale per weight), trainStep (add the KL or prior term to the loss) and predict
 * (return S weight samples: [batch, S, classes]; the runner averages them by `averaging`).
 *
 * Rules every method keeps (the conformance test checks them): every tensor a step makes is
 * freed (tf.tidy, gradients disposed); every random draw comes from the run's Rng, so one seed
 * gives one result; only '@bayes-peft/tensor' provides tf, so there is one engine per process.
 */
@injectable()
export class {{className}} implements Wrapper {
  readonly name = '{{name}}';
  /** How predict's weight samples are combined: average probabilities (or 'logits'). */
  readonly averaging = 'probs' as const;
  private backbone: Backbone | null = null;
  /** One LoRA adapter per adapted linear layer, by its Hugging Face module name. */
  private readonly loras = new Map<string, LoraAdapter>();
  private optimizer: Optimizer | null = null;
  private schedule: LinearWarmupDecay | null = null;
  private readonly rng: Rng;
  private readonly prefix = `{{name}}${instances++}`;

  constructor(
    @inject(TOKENS.RunContext) private readonly run: RunContext,
    @inject(TOKENS.LoraConfig) private readonly lora: LoraConfig,
    @inject({{constName}}_OPTIONS) readonly options: {{className}}Options,
  ) {
    // A named child stream: adding draws elsewhere never shifts this wrapper's.
    this.rng = run.rng.child('{{packageName}}');
  }

  /** Installs LoRA (PEFT's initialisation: B = 0, so a fresh adapter changes nothing) on the spec's target layers. */
  attach(backbone: Backbone): void {
    if (this.backbone) throw new Error('{{name}}: attach() was already called; one wrapper serves one backbone');
    this.backbone = backbone;
    let installed!: ReturnType<typeof installLora>;
    tf.tidy(() => {
      // The run's 'lora' stream, shared by the built-in wrappers: with one seed, methods start from the same A.
      installed = installLora(backbone, this.lora, this.run.rng.child('lora'), undefined, this.prefix);
    });
    for (const [site, { lora }] of installed) this.loras.set(site, lora);
  }

  /** The spec's optimizer (AdamW by default) and linear warmup/decay schedule; not called for evaluation-only runs. */
  prepare(plan: TrainingPlan): void {
    this.requireBackbone('prepare');
    this.optimizer?.dispose();
    this.optimizer = createOptimizer(plan.optimizer, referenceParamGroups(this.variables(), plan.weightDecay), { lr: plan.lr, eps: plan.adamEpsilon });
    this.schedule = new LinearWarmupDecay(plan.lr, { totalSteps: plan.totalSteps, warmupSteps: plan.warmupSteps });
  }

  /** One optimizer step on one batch; returns finite scalars for metrics.jsonl. */
  trainStep(batch: McqBatch, step: number): TrainStepResult {
    const backbone = this.requireBackbone('trainStep');
    if (!this.optimizer || !this.schedule) throw new Error('{{name}}: trainStep() before prepare(plan)');
    const optimizer = this.optimizer;
    const lr = this.schedule.lr(step);
    const ctx: ForwardContext = { training: true, rng: this.rng.child(`train/${step}`) };
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        // The last position's logits over the classes' answer tokens only: [B, C].
        const logits = backbone.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx });
        return smoothedNll(logits, batch.labels, this.options.labelSmoothing);
      }, this.variables());
      const v = value.dataSync()[0];
      // Stop before the update: the runner keeps the last good checkpoint and names the step.
      if (!Number.isFinite(v)) throw new NonFiniteLossError(step + 1, { loss: v }, '{{name}}: the adapter was not updated');
      optimizer.step(grads, lr);
      tf.dispose(grads);
      return v;
    });
    return { loss, nll: loss, lr };
  }

  /** Class logits per weight sample, [B, S, C]; one deterministic pass here, so S = 1. The caller disposes. */
  predict(batch: McqBatch, _options: PredictOptions): tf.Tensor3D {
    const backbone = this.requireBackbone('predict');
    const ctx: ForwardContext = { training: false, rng: this.rng.child('predict') };
    return tf.tidy(() => tf.expandDims(backbone.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx }), 1) as tf.Tensor3D);
  }

  /** One generation per prompt per weight sample, [B][S]; S = 1 here. */
  async generate(batch: EncodedBatch, options: GenerateOptions & { phase: EvalPhase }): Promise<GenerationResult[][]> {
    const backbone = this.requireBackbone('generate');
    const { phase: _phase, ...rest } = options;
    const results = await backbone.generate(batch, rest);
    return results.map((r) => [r]);
  }

  /** The adapter in PEFT's layout (adapter_config.json, adapter_model.safetensors): Python PEFT loads it too. */
  async save(dir: string): Promise<void> {
    const backbone = this.requireBackbone('save');
    await savePeftAdapter(dir, {
      config: this.lora,
      baseModel: backbone.id,
      tensors: loraPeftTensors(this.loras),
      meta: { wrapper: '{{name}}', options: this.options },
    });
  }

  /** Loads a saved adapter (a spec's `adapter:`, or a checkpoint when a run resumes). */
  async load(dir: string): Promise<void> {
    this.requireBackbone('load');
    const files = await loadPeftAdapter(dir);
    checkAdapterCompatible(files.config, this.lora, dir);
    assignLoraFromPeft(files, this.loras);
  }

  /** The optimizer's moments, so an interrupted run resumes exactly (kept beside the adapter, not in it). */
  getTrainingState(): { optimizer: OptimizerState } | null {
    return this.optimizer ? { optimizer: this.optimizer.getState() } : null;
  }

  setTrainingState(state: { optimizer: OptimizerState }): void {
    if (!this.optimizer) throw new Error('{{name}}: setTrainingState() before prepare(plan)');
    this.optimizer.setState(state.optimizer);
  }

  variables(): tf.Variable[] {
    return [...this.loras.values()].flatMap((l) => l.variables());
  }

  /** Takes the adapters off the backbone and frees every tensor this wrapper made. */
  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = null;
    if (this.backbone) removeAdapters(this.backbone, this.loras.values());
    for (const l of this.loras.values()) l.dispose();
    this.loras.clear();
    this.backbone = null;
  }

  private requireBackbone(what: string): Backbone {
    if (!this.backbone) throw new Error(`{{name}}: ${what}() before attach(backbone)`);
    return this.backbone;
  }
}
