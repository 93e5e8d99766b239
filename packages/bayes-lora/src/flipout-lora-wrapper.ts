/**
 * The wrapper machinery of every method whose adapters are flipout samplers over LoRA (BLoB,
 * BLoB-Laplace, TFB): installing the layers, weight-sampled prediction, generation with one
 * weight sample per sequence, the PEFT layout with rho, and disposal. Training (or the lack of
 * it) and loading are the subclass's.
 */
import { tf } from '@bayes-peft/tensor';
import type {
  Backbone,
  EncodedBatch,
  EvalPhase,
  ForwardContext,
  GenerateOptions,
  GenerationResult,
  LoraConfig,
  McqBatch,
  PredictOptions,
  Rng,
  RunContext,
  TrainingPlan,
  TrainStepResult,
  Wrapper,
} from '@bayes-peft/core';
import { requireSampledForward } from '@bayes-peft/core';
import { installLora, peftKey, savePeftAdapter } from '@bayes-peft/lora';
import { FlipoutAdapter } from './flipout-adapter';
import type { NoiseFamily } from './noise';
import { initRho } from './sigma';

let instances = 0;

/** What a flipout wrapper reads from its options when it predicts. */
export interface FlipoutEvalOptions {
  readonly evalSamples: number;
  readonly evalSamplesFinal: number;
  /** Posterior mean, one pass, no sampling ("N=0"). */
  readonly inferenceNotSample?: boolean;
}

export interface FlipoutLoraSetup {
  /** The method's short name: messages, adapter metadata, its RNG stream `wrapper-<name>`, variable names. */
  readonly name: string;
  /** sigma parameterisation: sigma = rho^2 (>= 0) or softplus(rho) (< 0). */
  readonly eps: number;
  /** The posterior family of A's perturbation. */
  readonly noise: NoiseFamily;
}

export abstract class FlipoutLoraWrapper<O extends FlipoutEvalOptions> implements Wrapper {
  readonly name: string;
  readonly averaging = 'probs' as const;
  readonly engines = ['tfjs', 'onnxruntime'] as const;
  protected backbone: Backbone | null = null;
  protected readonly layers = new Map<string, FlipoutAdapter>();
  /** The wrapper's own random stream, `wrapper-<name>` of the run's root. */
  protected readonly rng: Rng;
  private readonly prefix: string;

  constructor(
    protected readonly run: RunContext,
    protected readonly lora: LoraConfig,
    readonly options: O,
    protected readonly setup: FlipoutLoraSetup,
  ) {
    this.name = setup.name;
    this.rng = run.rng.child(`wrapper-${setup.name}`);
    this.prefix = `${setup.name}${instances++}`;
  }

  abstract prepare(plan: TrainingPlan): void;
  abstract trainStep(batch: McqBatch, step: number): TrainStepResult;
  abstract load(dir: string): Promise<void>;

  /**
   * LoRA on every target site, initialised from the run's `lora` stream (so MLE, MAP and these
   * methods start from the same A under one seed), wrapped in a flipout sampler whose rho is
   * drawn from this wrapper's stream: U(eps/sqrt 2, eps) (see sigma.ts).
   */
  attach(backbone: Backbone): void {
    if (this.backbone) throw new Error(`${this.name}: attach() was already called; one wrapper serves one backbone`);
    this.backbone = backbone;
    const rhoRng = this.rng.child('rho');
    const { eps, noise } = this.setup;
    let installed!: ReturnType<typeof installLora<FlipoutAdapter>>;
    tf.tidy(() => {
      installed = installLora(
        backbone,
        this.lora,
        this.run.rng.child('lora'),
        (lora, site) => {
          const [r, inF] = lora.A.shape;
          const rho = tf.variable(tf.tensor2d(initRho(r, inF, eps, rhoRng.child(site.name)), [r, inF]), true, `${this.prefix}/${site.name}/rho`);
          return new FlipoutAdapter(lora, rho, eps, noise);
        },
        this.prefix,
      );
    });
    for (const [name, { adapter }] of installed) this.layers.set(name, adapter);
  }

  /**
   * Logits [B, S, C]: S = evalSamples (intermediate) or evalSamplesFinal (final); one mean pass
   * when inferenceNotSample. With engine 'onnxruntime' the S forwards are one run of the
   * backbone's graph, with the same random draws (a promise).
   */
  predict(batch: McqBatch, options: PredictOptions & { engine?: 'tfjs' }): tf.Tensor3D;
  predict(batch: McqBatch, options: PredictOptions): tf.Tensor3D | Promise<tf.Tensor3D>;
  predict(batch: McqBatch, options: PredictOptions): tf.Tensor3D | Promise<tf.Tensor3D> {
    const backbone = this.requireBackbone('predict');
    const S = this.samplesFor(options.phase);
    // The run's k-th predict draws from predict/k; k is part of the run's Rng state, which checkpoints save (see Rng.nextChild).
    const ctx: ForwardContext = { training: false, rng: this.rng.nextChild('predict') };
    if (options.engine === 'onnxruntime') return this.predictOnnx(backbone, batch, S, ctx);
    this.setSampling(!this.meanOnly);
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

  private async predictOnnx(backbone: Backbone, batch: McqBatch, S: number, ctx: ForwardContext): Promise<tf.Tensor3D> {
    this.setSampling(!this.meanOnly);
    try {
      return await requireSampledForward(backbone, this.name)(batch.tokens, { samples: S, columns: batch.targetIds, ctx });
    } finally {
      this.setSampling(true);
    }
  }

  /**
   * S generations per prompt ([B][S]). Each sample index fixes one weight draw A + E for all
   * decoding steps (the reference re-samples every step, defect 13); with inferenceNotSample a
   * single posterior-mean generation.
   */
  async generate(batch: EncodedBatch, options: GenerateOptions & { phase: EvalPhase }): Promise<GenerationResult[][]> {
    const backbone = this.requireBackbone('generate');
    const { phase, ...rest } = options;
    const S = this.samplesFor(phase);
    // This call's fixed weight draws: generate/<k>/<sample>/<site> for the run's k-th generate (see Rng.nextChild).
    const call = this.rng.nextChild('generate');
    const sampleContext = (s: number): ForwardContext => ({ training: false, rng: S === 1 ? options.ctx.rng : options.ctx.rng.child(`sample/${s}`) });
    if (options.engine === 'onnxruntime' && backbone.sampledGenerate) {
      // Every sample's sequences decoded together: sample s under its own fixed draw, as below.
      if (this.meanOnly) this.setSampling(false);
      else for (const [name, layer] of this.layers) layer.fixNoiseSamples(Array.from({ length: S }, (_, s) => call.child(`${s}/${name}`)));
      try {
        return await backbone.sampledGenerate(batch, { ...rest, samples: S, sampleContext });
      } finally {
        for (const layer of this.layers.values()) layer.releaseNoise();
        this.setSampling(true);
      }
    }
    const out: GenerationResult[][] = batch.ids.map(() => []);
    for (let s = 0; s < S; s++) {
      if (this.meanOnly) this.setSampling(false);
      else for (const [name, layer] of this.layers) layer.fixNoise(call.child(`${s}/${name}`));
      try {
        const results = await backbone.generate(batch, { ...rest, ctx: sampleContext(s) });
        results.forEach((r, b) => out[b].push(r));
      } finally {
        for (const layer of this.layers.values()) layer.releaseNoise();
        this.setSampling(true);
      }
    }
    return out;
  }

  /**
   * The PEFT layout: `lora_A`, `lora_B` and the reference's `lora_A_rho` key per site, plus
   * `bayes_peft.json` = { wrapper, options, ...metadata() }.
   */
  async save(dir: string): Promise<void> {
    const backbone = this.requireBackbone('save');
    const tensors: Record<string, tf.Tensor> = {};
    for (const [site, layer] of this.layers) {
      tensors[peftKey(site, 'lora_A')] = layer.lora.A;
      tensors[peftKey(site, 'lora_B')] = layer.lora.B;
      tensors[peftKey(site, 'lora_A_rho')] = layer.rho;
    }
    await savePeftAdapter(dir, { config: this.lora, baseModel: backbone.id, tensors, meta: { wrapper: this.name, options: this.options, ...this.metadata() } });
  }

  /** The flipout adapters by site name, for inspection and tests. */
  adapters(): ReadonlyMap<string, FlipoutAdapter> {
    return this.layers;
  }

  variables(): tf.Variable[] {
    return [...this.layers.values()].flatMap((l) => l.variables());
  }

  dispose(): void {
    if (this.backbone) {
      const mine = new Set<unknown>(this.layers.values());
      for (const site of this.backbone.sites()) if (mine.has(site.adapter)) site.adapter = null;
    }
    for (const l of this.layers.values()) l.dispose();
    this.layers.clear();
    this.backbone = null;
  }

  /** Extra facts for bayes_peft.json. */
  protected metadata(): Record<string, unknown> {
    return {};
  }

  protected get meanOnly(): boolean {
    return this.options.inferenceNotSample === true;
  }

  protected samplesFor(phase: EvalPhase): number {
    if (this.meanOnly) return 1;
    return phase === 'final' ? this.options.evalSamplesFinal : this.options.evalSamples;
  }

  protected setSampling(on: boolean): void {
    for (const l of this.layers.values()) l.sampling = on;
  }

  protected meanVariables(): tf.Variable[] {
    return [...this.layers.values()].flatMap((l) => [l.lora.A, l.lora.B]);
  }

  protected rhoVariables(): tf.Variable[] {
    return [...this.layers.values()].map((l) => l.rho);
  }

  protected requireBackbone(what: string): Backbone {
    if (!this.backbone) throw new Error(`${this.name}: ${what}() before attach(backbone)`);
    return this.backbone;
  }
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
