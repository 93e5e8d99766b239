/**
 * BLoB's layer (REFERENCE-SPEC 4.5) as an Adapter around a LoRA adapter and its rho:
 *
 *   delta(x) = s B A d(x)                                            (mean path)
 *            + (sampling ? s B [ S ⊙ ((R ⊙ d'(x)) E^T) ] : 0)        (flipout noise)
 *
 * with s = alpha / r, d and d' two independent LoRA-dropout draws, E = perturbation(sigma, z)
 * of the layer's noise family (BLoB: E = sigma ⊙ z, z ~ N(0, 1)), z of shape [r, in] drawn ONCE
 * per delta call (one forward pass: shared by the whole batch and every position), and
 * R ∈ {±1}^[..., in], S ∈ {±1}^[..., r] drawn independently per token position. All draws come
 * from seeds of the call's ForwardContext rng.
 *
 * For generation the wrapper fixes one weight sample (`fixNoise`): z is drawn once and reused
 * by every decoding step, and the sign vectors are switched off, so the sequence sees exactly
 * A + E, a draw from q(A), at every step. (The reference re-samples at every decoding
 * step, REFERENCE-SPEC 8 defect 13.)
 */
import { tf } from '@bayes-peft/tensor';
import type { Adapter, ForwardContext, Rng } from '@bayes-peft/core';
import type { LoraAdapter } from '@bayes-peft/lora';
import { gaussianNoise, randomSigns, type NoiseFamily } from './noise';
import { sigmaFromRho } from './sigma';

export class FlipoutAdapter implements Adapter {
  /** The reference's `blobsample` switch: off = posterior mean (LoRA only). */
  sampling = true;
  private fixed: tf.Tensor2D | null = null;

  constructor(
    readonly lora: LoraAdapter,
    /** [r, in], same shape as A. */
    readonly rho: tf.Variable<tf.Rank.R2>,
    /** The `eps` option: selects sigma = rho^2 (>= 0) or softplus(rho) (< 0). */
    readonly eps: number,
    /** How sigma and a standardized draw make the perturbation of A (default: BLoB's Gaussian). */
    readonly noise: NoiseFamily = gaussianNoise,
  ) {
    if (!tf.util.arraysEqual(rho.shape, lora.A.shape)) {
      throw new Error(`flipout: rho of ${lora.site.name} has shape [${rho.shape}], A has [${lora.A.shape}]`);
    }
  }

  /** sigma = sigma(rho), [r, in]. */
  sigma(): tf.Tensor {
    return sigmaFromRho(this.rho, this.eps);
  }

  delta(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const { lora } = this;
    const mean = lora.up(lora.down(lora.dropoutInput(x, ctx)));
    if (!this.sampling) return mean;
    const xn = lora.dropoutInput(x, ctx); // d'(x): an independent dropout draw (identity when dropout is 0)
    if (this.fixed) {
      const E = this.noise.perturbation(this.sigma(), this.fixed);
      return tf.add(mean, lora.up(lora.down(xn, E)));
    }
    const [r, inF] = lora.A.shape;
    const lead = x.shape.slice(0, -1);
    const z = this.noise.draw([r, inF], ctx.rng);
    const E = this.noise.perturbation(this.sigma(), z);
    const R = randomSigns([...lead, inF], ctx.rng);
    const S = randomSigns([...lead, r], ctx.rng);
    const noise = tf.mul(S, lora.down(tf.mul(R, xn), E));
    return tf.add(mean, lora.up(noise));
  }

  /** Fixes one weight sample: every later call uses this draw z and no sign flips, until `releaseNoise`. */
  fixNoise(rng: Rng): void {
    this.releaseNoise();
    const [r, inF] = this.lora.A.shape;
    this.fixed = tf.tidy(() => this.noise.draw([r, inF], rng) as tf.Tensor2D);
  }

  releaseNoise(): void {
    this.fixed?.dispose();
    this.fixed = null;
  }

  get noiseFixed(): boolean {
    return this.fixed !== null;
  }

  variables(): tf.Variable[] {
    return [this.lora.A, this.lora.B, this.rho];
  }

  dispose(): void {
    this.releaseNoise();
    this.rho.dispose();
    this.lora.dispose();
  }
}
