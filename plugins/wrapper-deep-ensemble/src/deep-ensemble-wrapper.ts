import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tf } from '@bayes-peft/tensor';
import {
  requireSampledForward,
  LinearWarmupDecay,
  NonFiniteLossError,
  TOKENS,
  classAccuracy,
  classNll,
  createOptimizer,
  referenceParamGroups,
  type AveragingRule,
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
  type TrainingState,
  type TrainStepResult,
  type Wrapper,
} from '@bayes-peft/core';
import {
  ADAPTER_CONFIG,
  LoraAdapter,
  assignLoraFromPeft,
  checkAdapterCompatible,
  installLora,
  loadPeftAdapter,
  loraPeftTensors,
  removeAdapters,
  savePeftAdapter,
  type PeftAdapterFiles,
} from '@bayes-peft/lora';
import { inject, injectable } from 'tsyringe';
import { EnsembleAdapter } from './ensemble-adapter';
import { memberInitRng } from './ensemble-math';
import { DEEP_ENSEMBLE_OPTIONS, type DeepEnsembleOptions } from './options';

let instances = 0;

/** The folder of member m inside a saved ensemble: the root for member 0 (PEFT's default adapter), `adapter_<m>/` after. */
export function memberDir(dir: string, member: number): string {
  return member === 0 ? dir : path.join(dir, `adapter_${member}`);
}

/** The name of member m's optimizer state in a training state. */
export function memberStateKey(member: number): string {
  return `member-${member}`;
}

/**
 * Deep ensemble of LoRA adapters (REFERENCE-SPEC 4.4): `members` independently initialised LoRAs
 * per site behind one switching adapter, each trained on every batch by its own optimizer and
 * schedule; `predict` stacks the members' logits [B, n, C], combined by `averaging`. The maths
 * is in ensemble-math.ts.
 */
@injectable()
export class DeepEnsembleWrapper implements Wrapper {
  readonly name = 'deep-ensemble';
  private backbone: Backbone | null = null;
  private readonly layers = new Map<string, EnsembleAdapter>();
  private optimizers: Optimizer[] = [];
  private schedules: LinearWarmupDecay[] = [];
  private readonly rng: Rng;
  private readonly prefix: string;

  constructor(
    @inject(TOKENS.RunContext) private readonly run: RunContext,
    @inject(TOKENS.LoraConfig) private readonly lora: LoraConfig,
    @inject(DEEP_ENSEMBLE_OPTIONS) readonly options: DeepEnsembleOptions,
  ) {
    if (!(Number.isInteger(options.members) && options.members >= 1)) throw new Error(`deep-ensemble: members must be an integer >= 1, got ${options.members}`);
    this.rng = run.rng.child('wrapper-deep-ensemble');
    this.prefix = `de${instances++}`;
  }

  /** 'probs' (mean of the members' probabilities) or 'logits' (softmax of the mean logits, the reference). */
  readonly engines = ['tfjs', 'onnxruntime'] as const;

  get averaging(): AveragingRule {
    return this.options.averaging;
  }

  get members(): number {
    return this.options.members;
  }

  attach(backbone: Backbone): void {
    if (this.backbone) throw new Error('deep-ensemble: attach() was already called; one wrapper serves one backbone');
    this.backbone = backbone;
    const n = this.options.members;
    const loraRng = this.run.rng.child('lora');
    let installed!: ReturnType<typeof installLora<EnsembleAdapter>>;
    tf.tidy(() => {
      // Member 0 is installed as plain LoRA from the run's lora stream; the others are made per
      // site from their own streams (each site's init from <stream>/<site name>, as installLora does).
      installed = installLora(
        backbone,
        this.lora,
        memberInitRng(loraRng, 0),
        (first, site) =>
          new EnsembleAdapter([
            first,
            ...Array.from({ length: n - 1 }, (_, k) => new LoraAdapter(site, this.lora, memberInitRng(loraRng, k + 1).child(site.name), `${this.prefix}m${k + 1}`)),
          ]),
        `${this.prefix}m0`,
      );
    });
    for (const [name, { adapter }] of installed) this.layers.set(name, adapter);
  }

  /** One optimizer (the plan's) and one schedule per member, same hyperparameters. */
  prepare(plan: TrainingPlan): void {
    this.requireBackbone('prepare');
    this.disposeOptimizers();
    for (let m = 0; m < this.options.members; m++) {
      this.optimizers.push(createOptimizer(plan.optimizer, referenceParamGroups(this.memberVariables(m), plan.weightDecay), { lr: plan.lr, eps: plan.adamEpsilon }));
      this.schedules.push(new LinearWarmupDecay(plan.lr, { totalSteps: plan.totalSteps, warmupSteps: plan.warmupSteps }));
    }
  }

  /**
   * Every member takes one step on the batch (the reference: per member a forward, backward and
   * step). All gradients are computed and checked before any member steps, so a non-finite loss
   * leaves every member untouched (members share no parameters: the order does not matter).
   */
  trainStep(batch: McqBatch, step: number): TrainStepResult {
    const backbone = this.requireBackbone('trainStep');
    if (this.optimizers.length === 0) throw new Error('deep-ensemble: trainStep() before prepare(plan)');
    const n = this.options.members;
    const nll: number[] = [];
    const acc: number[] = [];
    const lrs = this.schedules.map((s) => s.lr(step));
    try {
      tf.tidy(() => {
        const grads: tf.NamedTensorMap[] = [];
        for (let m = 0; m < n; m++) {
          this.setActive(m);
          const ctx: ForwardContext = { training: true, rng: this.rng.child(`train/${step}/member-${m}`) };
          let logits: tf.Tensor | null = null;
          try {
            const { value, grads: g } = tf.variableGrads(() => {
              const out = backbone.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx });
              logits = tf.keep(out);
              return classNll(out, batch.labels);
            }, this.memberVariables(m));
            nll.push(value.dataSync()[0]);
            acc.push(classAccuracy(logits!, batch.labels));
            grads.push(g);
          } finally {
            (logits as tf.Tensor | null)?.dispose();
          }
        }
        const bad = nll.map((v, m) => [`member${m}_nll`, v] as const).filter(([, v]) => !Number.isFinite(v));
        if (bad.length > 0) throw new NonFiniteLossError(step + 1, Object.fromEntries(bad), 'deep-ensemble: no member was updated');
        for (let m = 0; m < n; m++) this.optimizers[m].step(grads[m], lrs[m]);
      });
    } finally {
      this.setActive(0);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const result: Record<string, number> = { loss: mean(nll), nll: mean(nll), acc: mean(acc), lr: lrs[0] };
    nll.forEach((v, m) => (result[`member${m}_nll`] = v));
    return result as TrainStepResult;
  }

  /**
   * Logits [B, n, C]: one deterministic pass per member (phase does not matter). With engine
   * 'onnxruntime' every member is one sample of a single graph run (a promise).
   */
  predict(batch: McqBatch, options: PredictOptions & { engine?: 'tfjs' }): tf.Tensor3D;
  predict(batch: McqBatch, options: PredictOptions): tf.Tensor3D | Promise<tf.Tensor3D>;
  predict(batch: McqBatch, options: PredictOptions): tf.Tensor3D | Promise<tf.Tensor3D> {
    const backbone = this.requireBackbone('predict');
    // The run's k-th predict draws from predict/k; k is part of the run's Rng state, which checkpoints save (see Rng.nextChild).
    const rng = this.rng.nextChild('predict');
    const memberContext = (m: number) => ({ training: false, rng: rng.child(`member-${m}`) });
    if (options.engine === 'onnxruntime') {
      const sampledForward = requireSampledForward(backbone, this.name);
      return this.membersAsSamples(() =>
        sampledForward(batch.tokens, { samples: this.options.members, columns: batch.targetIds, ctx: memberContext(0), sampleContext: memberContext }),
      );
    }
    try {
      return tf.tidy(() => {
        const out: tf.Tensor[] = [];
        for (let m = 0; m < this.options.members; m++) {
          this.setActive(m);
          out.push(backbone.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx: memberContext(m) }));
        }
        return tf.stack(out, 1) as tf.Tensor3D;
      });
    } finally {
      this.setActive(0);
    }
  }

  /** One generation per prompt per member ([B][n]); member m's sequence is generated by member m alone. */
  async generate(batch: EncodedBatch, options: GenerateOptions & { phase: EvalPhase }): Promise<GenerationResult[][]> {
    const backbone = this.requireBackbone('generate');
    const { phase: _phase, ...rest } = options;
    const n = this.options.members;
    const memberContext = (m: number): ForwardContext => ({ training: false, rng: n === 1 ? options.ctx.rng : options.ctx.rng.child(`member/${m}`) });
    if (rest.engine === 'onnxruntime' && backbone.sampledGenerate) {
      // Every member's sequences decoded together: member m is sample m.
      return this.membersAsSamples(() => backbone.sampledGenerate!(batch, { ...rest, samples: n, sampleContext: memberContext }));
    }
    const out: GenerationResult[][] = batch.ids.map(() => []);
    try {
      for (let m = 0; m < n; m++) {
        this.setActive(m);
        const results = await backbone.generate(batch, { ...rest, ctx: memberContext(m) });
        results.forEach((r, b) => out[b].push(r));
      }
    } finally {
      this.setActive(0);
    }
    return out;
  }

  /**
   * The PEFT layout of a multi-adapter model: member 0 at `dir` as PEFT's default adapter,
   * member m >= 1 in `dir/adapter_<m>/` (the names the reference's add_adapter gives, and where
   * PEFT's save_pretrained puts extra adapters), each a complete adapter folder.
   */
  async save(dir: string): Promise<void> {
    const backbone = this.requireBackbone('save');
    for (let m = 0; m < this.options.members; m++) {
      const meta = m === 0 ? { wrapper: 'deep-ensemble', options: this.options, member: 0 } : { wrapper: 'deep-ensemble', member: m };
      await savePeftAdapter(memberDir(dir, m), { config: this.lora, baseModel: backbone.id, tensors: loraPeftTensors(this.memberLoras(m)), meta });
    }
  }

  /**
   * Loads member m from its own folder (the reference loads the root into members 1..n-1 and
   * leaves member 0 untrained, §8 item 15). The folder must hold exactly `members` members.
   */
  async load(dir: string): Promise<void> {
    this.requireBackbone('load');
    const n = this.options.members;
    const saved = await countSavedMembers(dir);
    if (saved !== n) {
      throw new Error(
        `${dir}: holds ${saved} ensemble member${saved === 1 ? '' : 's'} (the root${saved > 1 ? ` and adapter_1..adapter_${saved - 1}` : ''}), this run's deep ensemble has members: ${n}`,
      );
    }
    const files: PeftAdapterFiles[] = [];
    for (let m = 0; m < n; m++) {
      const f = await loadPeftAdapter(memberDir(dir, m));
      checkAdapterCompatible(f.config, this.lora, memberDir(dir, m));
      files.push(f);
    }
    const from = typeof files[0].meta.wrapper === 'string' ? files[0].meta.wrapper : null;
    if (from && from !== 'deep-ensemble') this.run.log.info(`deep-ensemble: ${dir} holds a '${from}' adapter; loading its LoRA (A, B) as the single member`);
    files.forEach((f, m) => assignLoraFromPeft(f, this.memberLoras(m)));
  }

  /** One optimizer state per member, `member-<m>`. */
  getTrainingState(): TrainingState | null {
    if (this.optimizers.length === 0) return null;
    return Object.fromEntries(this.optimizers.map((o, m) => [memberStateKey(m), o.getState()]));
  }

  setTrainingState(state: TrainingState): void {
    if (this.optimizers.length === 0) throw new Error('deep-ensemble: setTrainingState() before prepare(plan)');
    const states = this.optimizers.map((_, m) => state[memberStateKey(m)]);
    const missing = states.findIndex((s) => !s);
    if (missing >= 0 || Object.keys(state).length !== this.optimizers.length) {
      throw new Error(`deep-ensemble: the training state holds [${Object.keys(state).join(', ')}], this run needs member-0..member-${this.optimizers.length - 1}`);
    }
    states.forEach((s, m) => this.optimizers[m].setState(s as OptimizerState));
  }

  /** The switching adapters by site name, for inspection and tests. */
  adapters(): ReadonlyMap<string, EnsembleAdapter> {
    return this.layers;
  }

  /** Member m's A and B of every site, in site order. */
  memberVariables(m: number): tf.Variable[] {
    return [...this.memberLoras(m).values()].flatMap((l) => l.variables());
  }

  /** Every member's variables, member by member. */
  variables(): tf.Variable[] {
    return Array.from({ length: this.layers.size ? this.options.members : 0 }, (_, m) => this.memberVariables(m)).flat();
  }

  dispose(): void {
    this.disposeOptimizers();
    if (this.backbone) removeAdapters(this.backbone, this.layers.values());
    for (const l of this.layers.values()) l.dispose();
    this.layers.clear();
    this.backbone = null;
  }

  private memberLoras(m: number): Map<string, LoraAdapter> {
    return new Map([...this.layers].map(([site, l]) => [site, l.members[m]]));
  }

  /** Runs an onnxruntime forward whose samples are the members (one graph run for the whole ensemble). */
  private async membersAsSamples<T>(run: () => Promise<T>): Promise<T> {
    for (const layer of this.layers.values()) layer.onnxMembers = 'per-sample';
    try {
      return await run();
    } finally {
      for (const layer of this.layers.values()) layer.onnxMembers = 'active';
    }
  }

  private setActive(m: number): void {
    for (const l of this.layers.values()) l.active = m;
  }

  private disposeOptimizers(): void {
    for (const o of this.optimizers) o.dispose();
    this.optimizers = [];
    this.schedules = [];
  }

  private requireBackbone(what: string): Backbone {
    if (!this.backbone) throw new Error(`deep-ensemble: ${what}() before attach(backbone)`);
    return this.backbone;
  }
}

/** 1 (the root) plus the consecutive `adapter_<m>/` folders holding an adapter config. */
async function countSavedMembers(dir: string): Promise<number> {
  let m = 1;
  while (
    await fs.access(path.join(memberDir(dir, m), ADAPTER_CONFIG)).then(
      () => true,
      () => false,
    )
  )
    m++;
  return m;
}
