/**
 * The adapter and sampling of every method whose adapters are flipout samplers over LoRA (BLoB,
 * BLoB-Laplace, TFB): rho per site, S weight-sampled passes (or the posterior mean), one fixed
 * weight sample per generated sequence, rho in the PEFT layout. The lifecycle is
 * @bayes-peft/lora's LoraWrapper; training (or the lack of it) is the subclass's.
 */
import { tf } from '@bayes-peft/tensor';
import type { EvalPhase, ForwardContext, LinearSite, LoraConfig, McqBatch, Rng, RunContext } from '@bayes-peft/core';
import { LoraWrapper, peftKey, type LoraAdapter } from '@bayes-peft/lora';
import { FlipoutAdapter } from './flipout-adapter';
import type { NoiseFamily } from './noise';
import { initRho } from './sigma';

/** What a flipout wrapper reads from its options when it predicts. */
export interface FlipoutEvalOptions {
  readonly evalSamples: number;
  readonly evalSamplesFinal: number;
  /** Posterior mean, one pass, no sampling ("N=0"). */
  readonly inferenceNotSample?: boolean;
  /** The `compat:` switch this class reads (blob and blob-laplace have it; see variational-options.ts), among the method's others. */
  readonly compat?: { readonly resampleEachStep?: boolean; readonly [other: string]: unknown };
}

export interface FlipoutLoraSetup {
  /** The method's short name: messages, adapter metadata, its RNG stream `wrapper-<name>`, variable names. */
  readonly name: string;
  /** sigma parameterisation: sigma = rho^2 (>= 0) or softplus(rho) (< 0). */
  readonly eps: number;
  /** The posterior family of A's perturbation. */
  readonly noise: NoiseFamily;
}

export abstract class FlipoutLoraWrapper<O extends FlipoutEvalOptions> extends LoraWrapper<O, FlipoutAdapter> {
  readonly name: string;

  constructor(
    run: RunContext,
    lora: LoraConfig,
    options: O,
    protected readonly setup: FlipoutLoraSetup,
  ) {
    super(run, lora, options);
    this.name = setup.name;
  }

  /**
   * LoRA (from the run's `lora` stream, so MLE, MAP and these methods start from the same A)
   * wrapped in a flipout sampler whose rho is drawn from this wrapper's stream
   * `rho/<site>`: U(eps/sqrt 2, eps) (see sigma.ts).
   */
  protected override createAdapter(lora: LoraAdapter, site: LinearSite): FlipoutAdapter {
    const [r, inF] = lora.A.shape;
    const { eps, noise } = this.setup;
    const rho = tf.variable(tf.tensor2d(initRho(r, inF, eps, this.rng.child('rho').child(site.name)), [r, inF]), true, `${this.prefix}/${site.name}/rho`);
    return new FlipoutAdapter(lora, rho, eps, noise);
  }

  /** S = evalSamples (intermediate) or evalSamplesFinal (final); one mean pass when inferenceNotSample. */
  protected override samples(phase: EvalPhase): number {
    if (this.meanOnly) return 1;
    return phase === 'final' ? this.options.evalSamplesFinal : this.options.evalSamples;
  }

  protected override beginPasses(): void {
    this.setSampling(!this.meanOnly);
  }

  protected override endPasses(): void {
    this.setSampling(true);
  }

  /**
   * Logits [B, C] of the posterior mean (LoRA's A, B; no noise), the reference's
   * `forward_logits(sample=False)`: the runner compares it with the sampled prediction for
   * `val_flip_ratio`. One pass with sampling off on every layer (and on whatever engine the run
   * evaluates on). It draws nothing: evaluation has no LoRA dropout, and its context's stream is a
   * fixed child, which moves none of the run's numbered sequences, so later draws are unchanged.
   */
  async predictMean(batch: McqBatch): Promise<tf.Tensor2D> {
    const backbone = this.requireBackbone('predictMean');
    const ctx: ForwardContext = { training: false, rng: this.rng.child('predict-mean') };
    this.setSampling(false);
    try {
      const logits = await backbone.sampledForward(batch.tokens, { samples: 1, columns: batch.targetIds, sampleContext: () => ctx });
      const mean = tf.squeeze<tf.Tensor2D>(logits, [1]);
      logits.dispose();
      return mean;
    } finally {
      this.setSampling(true);
    }
  }

  /**
   * Each generated sample fixes one weight draw A + E for all decoding steps. The reference
   * re-samples at every step (defect 13): with `compat.resampleEachStep` nothing is fixed, so every
   * decoding step's forward draws fresh noise and sign vectors from the sample's stream, as in an
   * MCQ pass.
   */
  protected override fixDraws(draws: readonly ((site: string) => Rng)[]): void {
    if (this.meanOnly) return this.setSampling(false);
    if (this.options.compat?.resampleEachStep) return;
    for (const [name, layer] of this.layers) layer.fixNoise(draws.map((d) => d(name)));
  }

  protected override releaseDraws(): void {
    for (const layer of this.layers.values()) layer.releaseNoise();
  }

  /** The PEFT layout: `lora_A`, `lora_B` and the reference's `lora_A_rho` key per site. */
  protected override peftTensors(): Record<string, tf.Tensor> {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [site, layer] of this.layers) {
      tensors[peftKey(site, 'lora_A')] = layer.lora.A;
      tensors[peftKey(site, 'lora_B')] = layer.lora.B;
      tensors[peftKey(site, 'lora_A_rho')] = layer.rho;
    }
    return tensors;
  }

  /** Loading another method's adapter needs no notice: its mean is this method's mean. */
  protected override foreignAdapterNote(): string | null {
    return null;
  }

  protected get meanOnly(): boolean {
    return this.options.inferenceNotSample === true;
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
}

/** The saved adapter must have the rank, alpha and targets this run's LoRA was installed with (it lives in @bayes-peft/lora). */
export { checkAdapterCompatible as checkCompatible } from '@bayes-peft/lora';
