/**
 * BLoB's layer (docs/methods.md, 'BLoB', flipout forward) as an Adapter around a LoRA adapter and its rho:
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
 * For generation the wrapper fixes one weight sample per generated sample (`fixNoise`): z is
 * drawn once and reused by every decoding step of the context's sample, and the sign vectors are
 * switched off, so the sequence sees exactly A + E, a draw from q(A), at every step. (The reference re-samples at every decoding
 * step, docs/reference-differences.md rows 26, 27.)
 */
import { tf } from '@bayes-peft/tensor';
import type { Adapter, ForwardContext, Rng } from '@bayes-peft/core';
import { onnxUnitAxes, type OnnxAdapter, type OnnxFeed, type OnnxGraphBuilder, type OnnxSiteInfo } from '@bayes-peft/onnx';
import { declareLoraInputs, emitLoraDown, emitLoraUp, loraOnnxFeeds, transposeHost, type LoraAdapter } from '@bayes-peft/lora';
import { gaussianNoise, randomSignBytes, randomSigns, type NoiseFamily } from './noise';
import { sigmaFromRho } from './sigma';

export class FlipoutAdapter implements Adapter, OnnxAdapter {
  /** The reference's `blobsample` switch: off = posterior mean (LoRA only). */
  sampling = true;
  /** The fixed z of each weight sample (generation), or null. */
  private fixed: tf.Tensor2D[] | null = null;
  /** E^T of each fixed sample on the host, for the ONNX export (sigma does not move while a sample is fixed). */
  private readonly fixedFeeds = new Map<number, Float32Array>();

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
      const E = this.noise.perturbation(this.sigma(), this.fixedDraw(ctx.sample ?? 0));
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

  /**
   * Fixes one weight sample per generated sample s (the draw z from rngs[s]): every later call
   * of sample s uses it, with no sign flips, until `releaseNoise`.
   */
  fixNoise(rngs: readonly Rng[]): void {
    this.releaseNoise();
    const [r, inF] = this.lora.A.shape;
    this.fixed = rngs.map((rng) => tf.tidy(() => this.noise.draw([r, inF], rng) as tf.Tensor2D));
  }

  releaseNoise(): void {
    this.fixedFeeds.clear();
    if (this.fixed) tf.dispose(this.fixed);
    this.fixed = null;
  }

  private fixedDraw(sample: number): tf.Tensor2D {
    const z = this.fixed?.[sample];
    if (!z) throw new Error(`${this.lora.site.name}: no fixed weight sample ${sample} (${this.fixed?.length ?? 0} fixed)`);
    return z;
  }

  get noiseFixed(): boolean {
    return this.fixed !== null;
  }

  onnxSignature(): string {
    if (this.fixed) return `flipout-fixed/${this.noise.name}`;
    return this.sampling ? `flipout/${this.noise.name}` : 'lora-mean';
  }

  /**
   * delta's evaluation graph for x [P, ...lead, in] (no dropout at evaluation). Per sample:
   * `E_t` = E^T [in, r] (E = perturbation(sigma, z), made on the device as delta makes it), and
   * the sign vectors `R` [...lead, in] and `S` [...lead, r] as int8.
   */
  emitOnnx(g: OnnxGraphBuilder, x: string, info: OnnxSiteInfo): string {
    const { r } = this.lora.shape;
    const { At, Bt } = declareLoraInputs(g, info, r);
    const mean = emitLoraUp(g, emitLoraDown(g, x, At), Bt, this.lora.scaling);
    if (!this.sampling && !this.fixed) return mean;
    const inF = info.site.inFeatures;
    const lead = info.leadDims;
    const ones = onnxUnitAxes(info);
    const Et = g.input(`${info.prefix}E_t`, [info.samples, ...ones, inF, r]);
    // A fixed weight sample (generation): A + E at every position, no sign flips.
    if (this.fixed) return g.op('Add', [mean, emitLoraUp(g, g.op('MatMul', [x, Et]), Bt, this.lora.scaling)]);
    const R = g.op('Cast', [g.input(`${info.prefix}R`, [info.samples, ...lead, inF], 'int8')], { to: 1 });
    const S = g.op('Cast', [g.input(`${info.prefix}S`, [info.samples, ...lead, r], 'int8')], { to: 1 });
    const noise = g.op('Mul', [S, g.op('MatMul', [g.op('Mul', [R, x]), Et])]);
    return g.op('Add', [mean, emitLoraUp(g, noise, Bt, this.lora.scaling)]);
  }

  onnxShared(info: OnnxSiteInfo): Record<string, OnnxFeed> {
    return loraOnnxFeeds(this.lora, info);
  }

  /** One sample's E^T, R and S, drawn from ctx.rng in delta's order: z, then R, then S. */
  onnxSample(info: OnnxSiteInfo, lead: readonly number[], ctx: ForwardContext, sample: number): Record<string, OnnxFeed> {
    const [r, inF] = this.lora.A.shape;
    const ones = onnxUnitAxes(info);
    if (this.fixed) {
      // A decoding asks for the same fixed draw at every step: made once per fixing.
      let Et = this.fixedFeeds.get(sample);
      if (!Et) {
        const fixed = this.fixedDraw(sample);
        let E!: Float32Array;
        tf.tidy(() => {
          E = this.noise.perturbation(this.sigma(), fixed).dataSync() as Float32Array;
        });
        Et = transposeHost(E, r, inF);
        this.fixedFeeds.set(sample, Et);
      }
      return { [`${info.prefix}E_t`]: { data: Et, dims: [...ones, inF, r] } };
    }
    if (!this.sampling) return {};
    // Read back inside the tidy and return nothing: tidy walks a returned typed array element by element.
    let E!: Float32Array;
    tf.tidy(() => {
      E = this.noise.perturbation(this.sigma(), this.noise.draw([r, inF], ctx.rng)).dataSync() as Float32Array;
    });
    const n = lead.reduce((a, b) => a * b, 1);
    return {
      [`${info.prefix}E_t`]: { data: transposeHost(E, r, inF), dims: [...ones, inF, r] },
      [`${info.prefix}R`]: { data: randomSignBytes(n * inF, ctx.rng), dims: [...lead, inF] },
      [`${info.prefix}S`]: { data: randomSignBytes(n * r, ctx.rng), dims: [...lead, r] },
    };
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
