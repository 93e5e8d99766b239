import { tf } from '@bayes-peft/tensor';
import {
  LinearWarmupDecay,
  NonFiniteLossError,
  classAccuracy,
  classNll,
  createOptimizer,
  referenceParamGroups,
  trainObjective,
  type Adapter,
  type AveragingRule,
  type Backbone,
  type EncodedBatch,
  type EvalPhase,
  type ForwardContext,
  type WrapperGenerateOptions,
  type GenerationResult,
  type SampleContext,
  type LinearSite,
  type LoraConfig,
  type McqBatch,
  type TrainBatch,
  type TrainObjective,
  type Optimizer,
  type OptimizerState,
  type ParamGroup,
  type PredictOptions,
  type Rng,
  type RunContext,
  type TrainingPlan,
  type TrainingState,
  type TrainStepResult,
  type Wrapper,
} from '@bayes-peft/core';
import { checkAdapterCompatible } from './check-compatible';
import { installLora, removeAdapters } from './install';
import { LoraAdapter } from './lora-adapter';
import { assignLoraFromPeft, loraPeftTensors } from './lora-tensors';
import { loadPeftAdapter, savePeftAdapter, type PeftAdapterFiles } from './peft-format';

/** An adapter a wrapper installs: it owns its variables and frees them. */
export interface WrapperAdapter extends Adapter {
  variables(): tf.Variable[];
  dispose(): void;
}

/** An optimizer and its learning-rate schedule. */
export interface Trainer {
  readonly optimizer: Optimizer;
  readonly schedule: LinearWarmupDecay;
}

/** Optimizer state of a one-optimizer wrapper, for resuming (not part of the PEFT adapter). */
export type PointLoraTrainingState = { readonly optimizer: OptimizerState };

/** What `gradients` measured: the gradients (in the caller's tidy) and the step's scalars. */
export interface StepGradients {
  readonly grads: tf.NamedTensorMap;
  /** The data term (`nll`) and every extra term, as numbers. */
  readonly values: Record<string, number>;
  readonly acc: number;
}

/** Per wrapper name, instances made so far: variable names must be unique in the engine. */
const instances = new Map<string, number>();

/**
 * The lifecycle every LoRA method shares: attach (LoRA on the target sites, from the run's
 * `lora` stream, wrapped in the method's adapter), prepare (the plan's optimizer under the
 * linear warmup/decay schedule), the training step (forward, loss, gradients, a finiteness
 * check, the optimizer step), S-sample prediction and generation through the backbone's sampled
 * calls (on whatever engine the run chose), the PEFT layout, resume state, naming and dispose. A
 * method overrides only its maths:
 *
 * - `createAdapter`: the adapter it installs around each LoRA (default: plain LoRA);
 * - `dataLoss` / `extraLoss`: the loss on the scored rows and the terms added to it (a prior, a KL);
 * - `samples` and the draw hooks (`passStream`, `beginPasses`, `fixDraws`): how weight samples
 *   are drawn and how many (an adapter with per-sample state reads the sample index from its
 *   ForwardContext); `averaging`: how they are combined.
 */
export abstract class LoraWrapper<O extends object = object, A extends WrapperAdapter = LoraAdapter> implements Wrapper {
  abstract readonly name: string;
  protected backbone: Backbone | null = null;
  protected readonly layers = new Map<string, A>();
  protected trainers: ReadonlyMap<string, Trainer> | null = null;
  /** Forward passes of one prediction draw from `<stream>-<s>` of the call's stream (null: all from the call's stream). */
  protected readonly passStream: string | null = null;
  private ownRng: Rng | null = null;
  private ownPrefix: string | null = null;

  constructor(
    protected readonly run: RunContext,
    protected readonly lora: LoraConfig,
    readonly options: O,
  ) {}

  /** How `predict`'s samples are combined. */
  get averaging(): AveragingRule {
    return 'probs';
  }

  /** The wrapper's own random stream, `wrapper-<name>` of the run's root. */
  protected get rng(): Rng {
    return (this.ownRng ??= this.run.rng.child(`wrapper-${this.name}`));
  }

  /** `<name><k>` for the k-th instance: the prefix of its variable names. */
  protected get prefix(): string {
    if (this.ownPrefix === null) {
      const n = instances.get(this.name) ?? 0;
      instances.set(this.name, n + 1);
      this.ownPrefix = `${this.name}${n}`;
    }
    return this.ownPrefix;
  }

  // ---- the method's maths (hooks) ----

  /** The adapter put on `site` around its LoRA parameters (default: the LoRA itself). */
  protected createAdapter(lora: LoraAdapter, _site: LinearSite): A {
    return lora as unknown as A;
  }

  /** The stream the LoRA initialisation draws from: the run's `lora`, so methods of one seed start alike. */
  protected loraRng(): Rng {
    return this.run.rng.child('lora');
  }

  /**
   * The data term of the loss on the batch's scored rows (core's `trainObjective`): logits
   * [N, K] with labels [N], one row per example over its C classes (multiple choice) or one per
   * answer token over the vocabulary (open-ended). Default: the class NLL, which on answer rows
   * is the mean answer-token NLL.
   */
  protected dataLoss(logits: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
    return classNll(logits, labels);
  }

  /** Terms added to the data term (a prior, a KL), by name; reported beside `nll`. */
  protected extraLoss(_vars: tf.Variable[]): Record<string, tf.Scalar> {
    return {};
  }

  /** Weight samples per prediction in `phase`. */
  protected samples(_phase: EvalPhase): number {
    return 1;
  }

  /** Before and after the passes of one predict/generate call (e.g. switching the posterior mean on). */
  protected beginPasses(): void {}
  protected endPasses(): void {}

  /**
   * Fixes the weight draw of each generated sample for whole sequences: `draws[s](site)` is
   * sample s's stream at a site; the adapters keep one draw per sample and pick theirs by the
   * context's `sample`. Wrappers whose passes draw nothing leave it undefined.
   */
  protected fixDraws?(draws: readonly ((site: string) => Rng)[], batchSize: number): void;
  protected releaseDraws?(): void;

  /** The optimizers of a plan by name (the names key the resume state). */
  protected createTrainers(plan: TrainingPlan): Record<string, Trainer> {
    return { optimizer: this.planTrainer(plan, referenceParamGroups(this.variables(), this.weightDecay(plan))) };
  }

  /** Weight decay for the default optimizer's groups: the plan's. */
  protected weightDecay(plan: TrainingPlan): number {
    return plan.weightDecay;
  }

  /** Adapter folders of these wrappers load silently; others are announced. */
  protected compatibleSources(): readonly string[] {
    return [this.name];
  }

  /** What loading another method's adapter means for this one (logged; null: nothing to say). */
  protected foreignAdapterNote(): string | null {
    return 'loading its LoRA mean (A, B) only';
  }

  /** Extra facts for bayes_peft.json. */
  protected metadata(): Record<string, unknown> {
    return {};
  }

  // ---- the lifecycle ----

  attach(backbone: Backbone): void {
    if (this.backbone) throw new Error(`${this.name}: attach() was already called; one wrapper serves one backbone`);
    this.backbone = backbone;
    let installed!: ReturnType<typeof installLora<A>>;
    tf.tidy(() => {
      installed = installLora(backbone, this.lora, this.loraRng(), (lora, site) => this.createAdapter(lora, site), this.prefix);
    });
    for (const [name, { adapter }] of installed) this.layers.set(name, adapter);
  }

  prepare(plan: TrainingPlan): void {
    this.requireBackbone('prepare');
    this.disposeTrainers();
    this.trainers = new Map(Object.entries(this.createTrainers(plan)));
  }

  /** One forward with the training context, the loss (multiple-choice or answer tokens), one step of the optimizer. */
  trainStep(batch: TrainBatch, step: number): TrainStepResult {
    const objective = this.objective(batch);
    const { optimizer, schedule } = this.trainer('optimizer');
    const lr = schedule.lr(step);
    const ctx = this.trainContext(step);
    const vars = this.variables();
    return tf.tidy(() => {
      const g = this.gradients(vars, objective, () => objective.forward(ctx));
      this.assertFinite(step, g.values);
      optimizer.step(g.grads, lr);
      tf.dispose(g.grads);
      return { ...this.stepResult(g), lr };
    });
  }

  /** Logits [B, S, C] of S weight samples, through the backbone's sampled forward. */
  async predict(batch: McqBatch, options: PredictOptions): Promise<tf.Tensor3D> {
    const backbone = this.requireBackbone('predict');
    const samples = this.samples(options.phase);
    // The run's k-th predict draws from predict/k; k is part of the run's Rng state, which checkpoints save (see Rng.nextChild).
    const call = this.rng.nextChild('predict');
    const stream = this.passStream;
    const sampleContext: SampleContext = (s) => ({ training: false, rng: stream ? call.child(`${stream}-${s}`) : call });
    return this.duringPasses(() => backbone.sampledForward(batch.tokens, { samples, columns: batch.targetIds, sampleContext }));
  }

  /** S generations per prompt ([B][S]); sample s keeps one weight draw for its whole sequence. */
  async generate(batch: EncodedBatch, options: WrapperGenerateOptions): Promise<GenerationResult[][]> {
    const backbone = this.requireBackbone('generate');
    const { phase, ctx, samples: asked, ...rest } = options;
    const samples = asked ?? this.samples(phase);
    const label = this.passStream ?? 'sample';
    const sampleContext: SampleContext = (s) => ({ training: false, rng: samples === 1 ? ctx.rng : ctx.rng.child(`${label}/${s}`) });
    // This call's fixed draws: <ctx.rng>/weights/<sample>/<site>, named by the caller's stream (a
    // generation batch's), not by how many generate calls this process made before: a resumed
    // open-ended run skips the batches generations.jsonl already holds, and the next batch must
    // draw what it drew in a run that never stopped.
    const call = this.fixDraws ? ctx.rng.child('weights') : null;
    return this.duringPasses(async () => {
      if (call) this.fixDraws?.(Array.from({ length: samples }, (_, s) => (site: string) => call.child(`${s}/${site}`)), batch.ids.length);
      try {
        return await backbone.sampledGenerate(batch, { ...rest, samples, sampleContext });
      } finally {
        this.releaseDraws?.();
      }
    });
  }

  /** The PEFT layout: `peftTensors()` and bayes_peft.json = { wrapper, options, ...metadata() }. */
  async save(dir: string): Promise<void> {
    await this.writeAdapter(dir, this.peftTensors(), { wrapper: this.name, options: this.options, ...this.metadata() });
  }

  async load(dir: string): Promise<void> {
    this.requireBackbone('load');
    const files = await this.readAdapter(dir);
    const from = typeof files.meta.wrapper === 'string' ? files.meta.wrapper : null;
    const note = this.foreignAdapterNote();
    if (from && note && !this.compatibleSources().includes(from)) this.run.log.info(`${this.name}: ${dir} holds a '${from}' adapter; ${note}`);
    this.restore(files, dir);
  }

  /** Optimizer states by name for a resumable checkpoint; null before prepare(). */
  getTrainingState(): TrainingState | null {
    if (!this.trainers) return null;
    return Object.fromEntries([...this.trainers].map(([name, t]) => [name, t.optimizer.getState()]));
  }

  setTrainingState(state: TrainingState): void {
    if (!this.trainers) throw new Error(`${this.name}: setTrainingState() before prepare(plan)`);
    const held = Object.keys(state).filter((k) => state[k]);
    const needed = [...this.trainers.keys()];
    if (held.length !== needed.length || needed.some((k) => !state[k])) {
      throw new Error(`${this.name}: the training state holds [${held.join(', ')}], this run needs [${needed.join(', ')}]`);
    }
    for (const [name, t] of this.trainers) t.optimizer.setState(state[name] as OptimizerState);
  }

  /** The installed adapters by site name, for inspection and tests. */
  adapters(): ReadonlyMap<string, A> {
    return this.layers;
  }

  variables(): tf.Variable[] {
    return [...this.layers.values()].flatMap((l) => l.variables());
  }

  dispose(): void {
    this.disposeTrainers();
    if (this.backbone) removeAdapters(this.backbone, this.layers.values());
    for (const l of this.layers.values()) l.dispose();
    this.layers.clear();
    this.backbone = null;
  }

  // ---- building blocks for methods ----

  protected requireBackbone(what: string): Backbone {
    if (!this.backbone) throw new Error(`${this.name}: ${what}() before attach(backbone)`);
    return this.backbone;
  }

  /** The trainer `name` (throws before prepare). */
  protected trainer(name: string): Trainer {
    const t = this.trainers?.get(name);
    if (!t) throw new Error(`${this.name}: trainStep() before prepare(plan)`);
    return t;
  }

  /** The plan's optimizer on `groups` under its linear warmup/decay schedule. */
  protected planTrainer(plan: TrainingPlan, groups: ParamGroup[]): Trainer {
    return {
      optimizer: createOptimizer(plan.optimizer, groups, { lr: plan.lr, eps: plan.adamEpsilon }),
      schedule: new LinearWarmupDecay(plan.lr, { totalSteps: plan.totalSteps, warmupSteps: plan.warmupSteps }),
    };
  }

  /** The forward context of training step `step`: the stream train/<step>. */
  protected trainContext(step: number): ForwardContext {
    return { training: true, rng: this.rng.child(`train/${step}`) };
  }

  /** The training objective of a batch on the attached backbone (core's `trainObjective`: multiple-choice or answer tokens). */
  protected objective(batch: TrainBatch): TrainObjective {
    return trainObjective(this.requireBackbone('trainStep'), batch);
  }

  /**
   * Gradients of dataLoss + extraLoss for `vars` at the output `forward` gives (one pass of the
   * objective, or a mean of several); call inside a tf.tidy (the gradients belong to it).
   */
  protected gradients(vars: tf.Variable[], objective: TrainObjective, forward: () => tf.Tensor): StepGradients {
    const kept: tf.Tensor[] = [];
    const keep = <T extends tf.Tensor>(t: T): T => (kept.push(tf.keep(t)), t);
    const names: string[] = [];
    let acc = NaN;
    try {
      const { grads } = tf.variableGrads(() => {
        const rows = objective.scored(forward());
        // Read here: the scored rows (an answer batch's selected labels among them) are freed with the tape.
        acc = classAccuracy(rows.logits, rows.labels);
        const nll = keep(this.dataLoss(rows.logits, rows.labels));
        let total: tf.Scalar = nll;
        for (const [name, term] of Object.entries(this.extraLoss(vars))) {
          names.push(name);
          total = tf.add(total, keep(term)) as tf.Scalar;
        }
        return total;
      }, vars);
      const values: Record<string, number> = { nll: kept[0].dataSync()[0] };
      names.forEach((name, i) => (values[name] = kept[1 + i].dataSync()[0]));
      return { grads, values, acc };
    } finally {
      tf.dispose(kept);
    }
  }

  /** Throws NonFiniteLossError naming the step and the bad values, before anything is updated. */
  protected assertFinite(step: number, values: Record<string, number>, note = 'the adapter was not updated'): void {
    if (Object.values(values).every(Number.isFinite)) return;
    throw new NonFiniteLossError(step + 1, values, `${this.name}: ${note}`);
  }

  /** loss = nll + every extra term; the terms reported under their names. */
  protected stepResult(g: StepGradients): Record<string, number> & { loss: number; nll: number } {
    const loss = Object.values(g.values).reduce((a, b) => a + b, 0);
    return { loss, ...g.values, nll: g.values.nll, acc: g.acc };
  }

  /** The LoRA parameters by site name (an adapter's `lora`, or the adapter itself). */
  protected loras(): Map<string, LoraAdapter> {
    return new Map([...this.layers].map(([site, l]) => [site, l instanceof LoraAdapter ? l : (l as unknown as { lora: LoraAdapter }).lora]));
  }

  /** The tensors saved by PEFT key (default: lora_A, lora_B per site). */
  protected peftTensors(): Record<string, tf.Tensor> {
    return loraPeftTensors(this.loras());
  }

  /** Writes one adapter folder in the PEFT layout with this run's LoRA config. */
  protected async writeAdapter(dir: string, tensors: Record<string, tf.Tensor>, meta: Record<string, unknown>): Promise<void> {
    const backbone = this.requireBackbone('save');
    await savePeftAdapter(dir, { config: this.lora, baseModel: backbone.id, tensors, meta });
  }

  /** Reads an adapter folder and checks its rank, alpha and targets against this run's. */
  protected async readAdapter(dir: string): Promise<PeftAdapterFiles> {
    const files = await loadPeftAdapter(dir);
    checkAdapterCompatible(files.config, this.lora, dir);
    return files;
  }

  /** Assigns what `load` read (default: A and B of every site). */
  protected restore(files: PeftAdapterFiles, _dir: string): void {
    assignLoraFromPeft(files, this.loras());
  }

  private async duringPasses<T>(run: () => Promise<T>): Promise<T> {
    this.beginPasses();
    try {
      return await run();
    } finally {
      this.endPasses();
    }
  }

  private disposeTrainers(): void {
    for (const t of this.trainers?.values() ?? []) t.optimizer.dispose();
    this.trainers = null;
  }
}
