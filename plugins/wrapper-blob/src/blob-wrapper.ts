import { tf } from '@bayes-peft/tensor';
import {
  LinearWarmupDecay,
  Sgd,
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
  NonFiniteLossError,
} from '@bayes-peft/core';
import { inject, injectable } from 'tsyringe';
import { installLora, loadPeftAdapter, peftKey, savePeftAdapter, takeTensor } from '@bayes-peft/lora';
import { gaussianKl, initRho, klCycleLength, klWeight } from './blob-math';
import { FlipoutAdapter } from './flipout-adapter';
import { accuracy, classNll } from './loss';
import { BLOB_OPTIONS, type BlobOptions } from './options';

let instances = 0;

/** Optimizer state of a BLoB run, for resuming (not part of the PEFT adapter). */
export type BlobTrainingState = {
  /** AdamW (the plan's optimizer) on A, B; with compat.rhoSgdOnly false also on rho. */
  readonly optimizer: OptimizerState;
  /** The KL SGD (compat.rhoSgdOnly only; SGD has no buffers but keeps step counts). */
  readonly klOptimizer: OptimizerState | null;
};

/**
 * BLoB, Bayesian Low-Rank Adaptation by Backpropagation (REFERENCE-SPEC 4.5): LoRA whose A is
 * Gaussian, q(A) = N(M, sigma^2), trained by flipout sampling with a KL to N(0, beta^2)
 * weighted by pi. The maths is in blob-math.ts, the sampler in flipout-adapter.ts.
 */
@injectable()
export class BlobWrapper implements Wrapper {
  readonly name = 'blob';
  readonly averaging = 'probs' as const;
  private backbone: Backbone | null = null;
  private readonly layers = new Map<string, FlipoutAdapter>();
  private optimizer: Optimizer | null = null;
  private klOptimizer: Sgd | null = null;
  private schedule: LinearWarmupDecay | null = null;
  private klSchedule: LinearWarmupDecay | null = null;
  private M = 0;
  private readonly rng: Rng;
  private readonly prefix: string;
  private predictCalls = 0;
  private generateCalls = 0;

  constructor(
    @inject(TOKENS.RunContext) private readonly run: RunContext,
    @inject(TOKENS.LoraConfig) private readonly lora: LoraConfig,
    @inject(BLOB_OPTIONS) readonly options: BlobOptions,
  ) {
    this.rng = run.rng.child('wrapper-blob');
    this.prefix = `blob${instances++}`;
  }

  attach(backbone: Backbone): void {
    if (this.backbone) throw new Error('blob: attach() was already called; one wrapper serves one backbone');
    this.backbone = backbone;
    const rhoRng = this.rng.child('rho');
    let installed!: ReturnType<typeof installLora<FlipoutAdapter>>;
    tf.tidy(() => {
      // LoRA init from the run's 'lora' stream (as MLE), rho from BLoB's own stream.
      installed = installLora(
        backbone,
        this.lora,
        this.run.rng.child('lora'),
        (lora, site) => {
          const [r, inF] = lora.A.shape;
          const rho = tf.variable(tf.tensor2d(initRho(r, inF, this.options.eps, rhoRng.child(site.name)), [r, inF]), true, `${this.prefix}/${site.name}/rho`);
          return new FlipoutAdapter(lora, rho, this.options.eps);
        },
        this.prefix,
      );
    });
    for (const [name, { adapter }] of installed) this.layers.set(name, adapter);
  }

  prepare(plan: TrainingPlan): void {
    this.requireBackbone('prepare');
    this.disposeOptimizers();
    this.M = klCycleLength({
      datasetRescaling: this.options.datasetRescaling,
      numTrainExamples: plan.numTrainExamples,
      batchSize: plan.batchSize,
      gamma: this.options.gamma,
      stepsPerEpoch: plan.stepsPerEpoch,
    });
    const sched = { totalSteps: plan.totalSteps, warmupSteps: plan.warmupSteps };
    const ab = this.meanVariables();
    const rhos = this.rhoVariables();
    const opt = { lr: plan.lr, eps: plan.adamEpsilon };
    if (this.options.compat.rhoSgdOnly) {
      // The reference: AdamW built before rho exists covers A, B; SGD(klLr, no momentum, no decay)
      // covers every parameter (B never gets a gradient there).
      this.optimizer = createOptimizer(plan.optimizer, referenceParamGroups(ab, plan.weightDecay), opt);
      this.klOptimizer = new Sgd([...ab, ...rhos], { lr: this.options.klLr });
      this.klSchedule = new LinearWarmupDecay(this.options.klLr, sched);
    } else {
      // One optimizer on NLL + pi KL; rho is a variance parameter, so it gets no weight decay.
      this.optimizer = createOptimizer(plan.optimizer, [...referenceParamGroups(ab, plan.weightDecay), { params: rhos, weightDecay: 0 }], opt);
    }
    this.schedule = new LinearWarmupDecay(plan.lr, sched);
  }

  /** M of the current plan (0 before prepare). */
  get klCycle(): number {
    return this.M;
  }

  trainStep(batch: McqBatch, step: number): TrainStepResult {
    const backbone = this.requireBackbone('trainStep');
    const optimizer = this.optimizer;
    if (!optimizer || !this.schedule) throw new Error('blob: trainStep() before prepare(plan)');
    const pi = klWeight(step + 1, this.M, this.options.klReweighting);
    const lr = this.schedule.lr(step);
    const ctx: ForwardContext = { training: true, rng: this.rng.child(`train/${step}`) };
    this.setSampling(true);
    const ab = this.meanVariables();
    const rhos = this.rhoVariables();
    const kept: { logits?: tf.Tensor; nll?: tf.Scalar; kl?: tf.Scalar } = {};

    // nll of log_softmax(mean over trainSamples of sampled logits) [B, C]
    const nllOf = (): tf.Scalar => {
      const samples: tf.Tensor[] = [];
      for (let s = 0; s < this.options.trainSamples; s++) {
        samples.push(backbone.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx }));
      }
      const logits = samples.length === 1 ? samples[0] : tf.div(tf.addN(samples), samples.length);
      kept.logits = tf.keep(logits);
      return classNll(logits, batch.labels);
    };
    const kl = (): tf.Scalar => gaussianKl([...this.layers.values()].map((l) => ({ mean: l.lora.A, sigma: l.sigma() })), this.options.beta);

    try {
      let nll: number;
      let klValue: number;
      let klLr: number | undefined;
      if (this.options.compat.rhoSgdOnly) {
        const klOptimizer = this.klOptimizer!;
        klLr = this.klSchedule!.lr(step);
        [nll, klValue] = tf.tidy(() => {
          // 1. NLL backward: gradients on A, B and rho.
          const { value: nllT, grads: nllGrads } = tf.variableGrads(nllOf, [...ab, ...rhos]);
          const n = nllT.dataSync()[0];
          if (!Number.isFinite(n)) throw nonFinite('nll', n, step, 'the adapter was not updated');
          // 2. AdamW on A, B (rho keeps its NLL gradient).
          optimizer.step(pick(nllGrads, ab), lr);
          // 3. KL backward at the updated A: pi dKL on A and rho.
          const { value: klT, grads: klGrads } = tf.variableGrads(kl, [...[...this.layers.values()].map((l) => l.lora.A), ...rhos]);
          const k = klT.dataSync()[0];
          if (!Number.isFinite(k)) throw nonFinite('kl', k, step, 'A and B had their AdamW update; rho and the KL step were not applied');
          // 4. SGD(klLr): rho <- rho - klLr (dNLL/drho + pi dKL/drho); A <- A - klLr pi dKL/dA.
          const sgdGrads: Record<string, tf.Tensor> = {};
          for (const [name, g] of Object.entries(klGrads)) {
            if (!g) continue;
            const scaled = tf.mul(g, pi);
            sgdGrads[name] = nllGrads[name] ? tf.add(nllGrads[name], scaled) : scaled;
          }
          klOptimizer.step(sgdGrads, klLr);
          tf.dispose([nllGrads, klGrads, sgdGrads]);
          return [n, k];
        });
      } else {
        [nll, klValue] = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => {
            const n = tf.keep(nllOf());
            const k = tf.keep(kl());
            kept.nll = n;
            kept.kl = k;
            return tf.add(n, tf.mul(k, pi)) as tf.Scalar;
          }, [...ab, ...rhos]);
          const n = kept.nll!.dataSync()[0];
          const k = kept.kl!.dataSync()[0];
          const loss = value.dataSync()[0];
          if (!Number.isFinite(n) || !Number.isFinite(k) || !Number.isFinite(loss)) {
            throw nonFinite(!Number.isFinite(n) ? 'nll' : 'kl', !Number.isFinite(n) ? n : k, step, 'the adapter was not updated');
          }
          optimizer.step(grads, lr);
          tf.dispose(grads);
          return [n, k];
        });
      }
      const weighted = pi * klValue;
      const result: Record<string, number> = {
        loss: nll + weighted,
        nll,
        kl: weighted,
        elbo: nll + klValue,
        pi,
        lr,
        acc: accuracy(kept.logits!, batch.labels),
      };
      if (klLr !== undefined) result.klLr = klLr;
      return result as TrainStepResult;
    } finally {
      tf.dispose([kept.logits, kept.nll, kept.kl].filter((t): t is tf.Tensor => !!t));
    }
  }

  /** Logits [B, S, C]: S = evalSamples (intermediate) or evalSamplesFinal (final); one mean pass when inferenceNotSample. */
  predict(batch: McqBatch, options: PredictOptions): tf.Tensor3D {
    const backbone = this.requireBackbone('predict');
    const S = this.samplesFor(options.phase);
    const ctx: ForwardContext = { training: false, rng: this.rng.child(`predict/${this.predictCalls++}`) };
    this.setSampling(!this.options.inferenceNotSample);
    try {
      return tf.tidy(() => {
        const out: tf.Tensor[] = [];
        for (let s = 0; s < S; s++) out.push(backbone.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx }));
        return tf.stack(out, 1) as tf.Tensor3D;
      });
    } finally {
      this.setSampling(true);
    }
  }

  /**
   * S generations per prompt ([B][S]). Each sample index fixes one weight draw A + sigma ⊙ eps
   * for all decoding steps (the reference re-samples every step, defect 13); with
   * inferenceNotSample a single posterior-mean generation.
   */
  async generate(batch: EncodedBatch, options: GenerateOptions & { phase: EvalPhase }): Promise<GenerationResult[][]> {
    const backbone = this.requireBackbone('generate');
    const { phase, ...rest } = options;
    const S = this.samplesFor(phase);
    const call = this.generateCalls++;
    const out: GenerationResult[][] = batch.ids.map(() => []);
    for (let s = 0; s < S; s++) {
      if (this.options.inferenceNotSample) this.setSampling(false);
      else for (const [name, layer] of this.layers) layer.fixNoise(this.rng.child(`generate/${call}/${s}/${name}`));
      try {
        const ctx: ForwardContext = { training: false, rng: S === 1 ? options.ctx.rng : options.ctx.rng.child(`sample/${s}`) };
        const results = await backbone.generate(batch, { ...rest, ctx });
        results.forEach((r, b) => out[b].push(r));
      } finally {
        for (const layer of this.layers.values()) layer.releaseNoise();
        this.setSampling(true);
      }
    }
    return out;
  }

  async save(dir: string): Promise<void> {
    const backbone = this.requireBackbone('save');
    const tensors: Record<string, tf.Tensor> = {};
    for (const [site, layer] of this.layers) {
      tensors[peftKey(site, 'lora_A')] = layer.lora.A;
      tensors[peftKey(site, 'lora_B')] = layer.lora.B;
      tensors[peftKey(site, 'lora_A_rho')] = layer.rho;
    }
    await savePeftAdapter(dir, { config: this.lora, baseModel: backbone.id, tensors, meta: { wrapper: 'blob', options: this.options } });
  }

  /**
   * Loads A, B and rho. An adapter without rho (MLE/MAP, or trained elsewhere) keeps this run's
   * initial rho, as the reference's non-strict load does; one whose sigma parameterisation
   * (sign of eps) differs is refused, since its rho would mean another sigma.
   */
  async load(dir: string): Promise<void> {
    this.requireBackbone('load');
    const files = await loadPeftAdapter(dir);
    checkCompatible(files.config, this.lora, dir);
    const savedEps = (files.meta.options as { eps?: unknown } | undefined)?.eps;
    if (typeof savedEps === 'number' && savedEps >= 0 !== this.options.eps >= 0) {
      throw new Error(
        `${dir}: the adapter was trained with eps ${savedEps} (sigma = ${savedEps >= 0 ? 'rho^2' : 'softplus(rho)'}), this run uses eps ${this.options.eps}; ` +
          `set blob.eps to a value of the same sign`,
      );
    }
    let missingRho = 0;
    const values = [...this.layers].map(([site, layer]) => {
      const shape = layer.lora.A.shape;
      const a = takeTensor(files, site, 'lora_A', shape);
      const b = takeTensor(files, site, 'lora_B', layer.lora.B.shape);
      let rho = null;
      try {
        rho = takeTensor(files, site, 'lora_A_rho', shape);
      } catch (e) {
        if (!/is missing/.test((e as Error).message)) throw e;
        missingRho++;
      }
      return { layer, a, b, rho };
    });
    tf.tidy(() => {
      for (const { layer, a, b, rho } of values) {
        layer.lora.A.assign(tf.tensor2d(a.data as Float32Array, layer.lora.A.shape as [number, number]));
        layer.lora.B.assign(tf.tensor2d(b.data as Float32Array, layer.lora.B.shape as [number, number]));
        if (rho) layer.rho.assign(tf.tensor2d(rho.data as Float32Array, layer.rho.shape as [number, number]));
      }
    });
    if (missingRho > 0) {
      this.run.log.warn(`blob: ${dir} has no lora_A_rho for ${missingRho} of ${values.length} layers; they keep their initial rho (sigma ~ eps^2)`);
    }
  }

  getTrainingState(): BlobTrainingState | null {
    if (!this.optimizer) return null;
    return { optimizer: this.optimizer.getState(), klOptimizer: this.klOptimizer?.getState() ?? null };
  }

  setTrainingState(state: BlobTrainingState): void {
    if (!this.optimizer) throw new Error('blob: setTrainingState() before prepare(plan)');
    this.optimizer.setState(state.optimizer);
    if (this.klOptimizer) {
      if (!state.klOptimizer) throw new Error('blob: the training state has no KL optimizer (saved with compat.rhoSgdOnly false?)');
      this.klOptimizer.setState(state.klOptimizer);
    }
  }

  /** The flipout adapters by site name, for inspection and tests. */
  adapters(): ReadonlyMap<string, FlipoutAdapter> {
    return this.layers;
  }

  variables(): tf.Variable[] {
    return [...this.layers.values()].flatMap((l) => l.variables());
  }

  dispose(): void {
    this.disposeOptimizers();
    if (this.backbone) {
      const mine = new Set<unknown>(this.layers.values());
      for (const site of this.backbone.sites()) if (mine.has(site.adapter)) site.adapter = null;
    }
    for (const l of this.layers.values()) l.dispose();
    this.layers.clear();
    this.backbone = null;
  }

  private samplesFor(phase: EvalPhase): number {
    if (this.options.inferenceNotSample) return 1;
    return phase === 'final' ? this.options.evalSamplesFinal : this.options.evalSamples;
  }

  private setSampling(on: boolean): void {
    for (const l of this.layers.values()) l.sampling = on;
  }

  private meanVariables(): tf.Variable[] {
    return [...this.layers.values()].flatMap((l) => [l.lora.A, l.lora.B]);
  }

  private rhoVariables(): tf.Variable[] {
    return [...this.layers.values()].map((l) => l.rho);
  }

  private disposeOptimizers(): void {
    this.optimizer?.dispose();
    this.klOptimizer?.dispose();
    this.optimizer = null;
    this.klOptimizer = null;
    this.schedule = null;
    this.klSchedule = null;
  }

  private requireBackbone(what: string): Backbone {
    if (!this.backbone) throw new Error(`blob: ${what}() before attach(backbone)`);
    return this.backbone;
  }
}

function pick(grads: tf.NamedTensorMap, vars: readonly tf.Variable[]): tf.NamedTensorMap {
  const out: tf.NamedTensorMap = {};
  for (const v of vars) if (grads[v.name]) out[v.name] = grads[v.name];
  return out;
}

function nonFinite(term: 'nll' | 'kl', value: number, step: number, state: string): Error {
  return new NonFiniteLossError(step + 1, { [term]: value }, `blob: ${state}`);
}

/** The saved adapter must have the rank, alpha and targets this run's LoRA was installed with. */
export function checkCompatible(saved: LoraConfig, current: LoraConfig, dir: string): void {
  const problems: string[] = [];
  if (saved.r !== current.r) problems.push(`r ${saved.r} (run: ${current.r})`);
  if (saved.alpha !== current.alpha) problems.push(`alpha ${saved.alpha} (run: ${current.alpha})`);
  const a = [...saved.targets].sort().join(',');
  const b = [...current.targets].sort().join(',');
  if (a !== b) problems.push(`targets [${a}] (run: [${b}])`);
  if (problems.length) throw new Error(`${dir}: the adapter does not match the run's lora section: ${problems.join('; ')}`);
}
