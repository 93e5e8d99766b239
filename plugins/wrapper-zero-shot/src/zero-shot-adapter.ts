import { tf } from '@bayes-peft/tensor';
import type { Adapter, ForwardContext, Rng } from '@bayes-peft/core';
import { onnxUnitAxes, type OnnxAdapter, type OnnxFeed, type OnnxGraphBuilder, type OnnxSiteInfo } from '@bayes-peft/onnx';
import { emitLoraUp, linear, transposeHost, type LoraAdapter } from '@bayes-peft/lora';
import { drawSiteNoise, perturbedFactors, type NoiseSpec, type SiteNoise } from './zero-shot-math';

/**
 * A LoRA (A0, B0) perturbed per weight sample: delta(x) = s (B0 + E_B)(A0 + E_A) x (zero-shot-math.ts).
 *
 * A pass draws its noise from its context's stream at this site, `ctx.rng.child(<site>)`: a pure
 * function of the pass and the site, so a forward that calls the site more than once (or the ONNX
 * export, asking for the inputs) sees the same weight sample. While draws are fixed (`fixNoise`,
 * for generation) the context's `sample` picks its draw instead, the same at every decoding step.
 */
export class ZeroShotAdapter implements Adapter, OnnxAdapter {
  private fixed: SiteNoise[] | null = null;
  /** (A0 + E_A)^T and (B0 + E_B)^T of each fixed sample on the host, for the ONNX export (made once per fixing). */
  private readonly fixedFeeds = new Map<number, { At: Float32Array; Bt: Float32Array }>();

  constructor(
    readonly lora: LoraAdapter,
    readonly spec: NoiseSpec,
  ) {}

  delta(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const { A, B } = perturbedFactors(this.lora.A, this.lora.B, this.noiseFor(ctx));
    return tf.mul(linear(linear(x, A), B), this.lora.scaling);
  }

  /** Fixes one draw per weight sample s (from rngs[s], this site's stream of sample s) until `releaseNoise`. */
  fixNoise(rngs: readonly Rng[]): void {
    this.releaseNoise();
    // Kept: they outlive any tidy the caller may be in, until releaseNoise.
    this.fixed = rngs.map((rng) => {
      const n = this.draw(rng);
      tf.keep(n.eB);
      if (n.eA) tf.keep(n.eA);
      return n;
    });
  }

  releaseNoise(): void {
    this.fixedFeeds.clear();
    for (const n of this.fixed ?? []) tf.dispose([n.eB, ...(n.eA ? [n.eA] : [])]);
    this.fixed = null;
  }

  /** Weight sample s's fixed noise, or null when none is fixed (for inspection and tests). */
  fixedNoise(sample = 0): SiteNoise | null {
    return this.fixed ? this.fixedDraw(sample) : null;
  }

  onnxSignature(): string {
    return 'zero-shot';
  }

  /** delta for x [P, ...lead, in]: per sample (A0 + E_A)^T [in, r] and (B0 + E_B)^T [r, out], as delta multiplies them. */
  emitOnnx(g: OnnxGraphBuilder, x: string, info: OnnxSiteInfo): string {
    const { r } = this.lora.shape;
    const ones = onnxUnitAxes(info);
    const At = g.input(`${info.prefix}A_t`, [info.samples, ...ones, info.site.inFeatures, r]);
    const Bt = g.input(`${info.prefix}B_t`, [info.samples, ...ones, r, info.site.outFeatures]);
    return emitLoraUp(g, g.op('MatMul', [x, At]), Bt, this.lora.scaling);
  }

  onnxShared(): Record<string, OnnxFeed> {
    return {};
  }

  /** One sample's perturbed factors, transposed: from the fixed draw, or drawn from ctx as delta draws them. */
  onnxSample(info: OnnxSiteInfo, _lead: readonly number[], ctx: ForwardContext, sample: number): Record<string, OnnxFeed> {
    const [r, inF] = this.lora.A.shape;
    const outF = this.lora.B.shape[0];
    let feeds = this.fixed ? this.fixedFeeds.get(sample) : undefined;
    if (!feeds) {
      // Read back inside the tidy and return nothing: tidy walks a returned typed array element by element.
      let A!: Float32Array;
      let B!: Float32Array;
      tf.tidy(() => {
        const f = perturbedFactors(this.lora.A, this.lora.B, this.fixed ? this.fixedDraw(sample) : this.noiseFor(ctx));
        A = f.A.dataSync() as Float32Array;
        B = f.B.dataSync() as Float32Array;
      });
      feeds = { At: transposeHost(A, r, inF), Bt: transposeHost(B, outF, r) };
      if (this.fixed) this.fixedFeeds.set(sample, feeds);
    }
    const ones = onnxUnitAxes(info);
    return {
      [`${info.prefix}A_t`]: { data: feeds.At, dims: [...ones, inF, r] },
      [`${info.prefix}B_t`]: { data: feeds.Bt, dims: [...ones, r, outF] },
    };
  }

  variables(): tf.Variable[] {
    return this.lora.variables();
  }

  dispose(): void {
    this.releaseNoise();
    this.lora.dispose();
  }

  /** The pass's noise: its fixed draw, or a fresh one from the pass's stream at this site (freed by the caller's tidy). */
  private noiseFor(ctx: ForwardContext): SiteNoise {
    return this.fixed ? this.fixedDraw(ctx.sample ?? 0) : this.draw(ctx.rng.child(this.lora.site.name));
  }

  private draw(rng: Rng): SiteNoise {
    const [r, inF] = this.lora.A.shape;
    return drawSiteNoise(r, inF, this.lora.B.shape[0], this.spec, rng);
  }

  private fixedDraw(sample: number): SiteNoise {
    const n = this.fixed?.[sample];
    if (!n) throw new Error(`zero-shot: ${this.lora.site.name} has no fixed weight sample ${sample} (${this.fixed?.length ?? 0} fixed)`);
    return n;
  }
}
