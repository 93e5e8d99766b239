import { tf } from '@bayes-peft/tensor';
import type { Adapter, ForwardContext, Rng } from '@bayes-peft/core';
import { onnxUnitAxes, type OnnxAdapter, type OnnxFeed, type OnnxGraphBuilder, type OnnxSiteInfo } from '@bayes-peft/onnx';
import { declareLoraInputs, emitLoraDown, emitLoraUp, loraOnnxFeeds, type LoraAdapter } from '@bayes-peft/lora';
import { applySequenceMask, invertedDropout, keepMaskBytes, sequenceKeepMask } from './dropout-math';

/**
 * LoRA with MC dropout on its input: delta(x) = s B A dropout(x), the dropout active in every
 * forward call, training or not (that is the method). While per-sequence masks are fixed
 * (`fixMasks`, for generation: one per weight sample) the context's sample's mask replaces the
 * per-element draws.
 */
export class McDropoutAdapter implements Adapter, OnnxAdapter {
  private fixed: tf.Tensor2D[] | null = null;
  /** The fixed masks on the host, for the ONNX export. */
  private readonly fixedFeeds = new Map<number, Float32Array>();

  constructor(
    readonly lora: LoraAdapter,
    /** Dropout rate p in [0, 1) (the wrapper insists on p > 0; 0 is allowed here for tests). */
    readonly rate: number,
  ) {
    if (!(rate >= 0 && rate < 1)) throw new Error(`mc-dropout: the dropout rate must be in [0, 1), got ${rate}`);
  }

  /** The adapter's input after dropout: the fixed per-sequence mask if one is set, else fresh per-element draws from ctx.rng. */
  dropInput(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return this.fixed ? applySequenceMask(x, this.fixedMask(ctx.sample ?? 0)) : invertedDropout(x, this.rate, ctx.rng);
  }

  delta(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return this.lora.up(this.lora.down(this.dropInput(x, ctx)));
  }

  /** Fixes one mask per sequence of a batch of `batch` rows for each weight sample s (drawn from rngs[s]), until `releaseMask`. */
  fixMasks(batch: number, rngs: readonly Rng[]): void {
    this.releaseMask();
    this.fixed = rngs.map((rng) => tf.keep(sequenceKeepMask(batch, this.lora.site.inFeatures, this.rate, rng)));
  }

  releaseMask(): void {
    this.fixedFeeds.clear();
    if (this.fixed) tf.dispose(this.fixed);
    this.fixed = null;
  }

  /** Weight sample s's fixed per-sequence mask [B, in], or null when none is fixed (for inspection and tests). */
  mask(sample = 0): tf.Tensor2D | null {
    return this.fixed ? this.fixedMask(sample) : null;
  }

  private fixedMask(sample: number): tf.Tensor2D {
    const mask = this.fixed?.[sample];
    if (!mask) throw new Error(`mc-dropout: no fixed mask for weight sample ${sample} (${this.fixed?.length ?? 0} fixed)`);
    return mask;
  }

  onnxSignature(): string {
    return this.fixed ? 'mc-dropout-fixed' : 'mc-dropout';
  }

  /**
   * delta for x [P, ...lead, in] with a keep mask per sample (`keep`, int8 0/1): x times
   * (keep / (1 - p)), as invertedDropout computes it, then LoRA's two products.
   */
  emitOnnx(g: OnnxGraphBuilder, x: string, info: OnnxSiteInfo): string {
    const { At, Bt } = declareLoraInputs(g, info, this.lora.shape.r);
    if (this.fixed) {
      // One scaled mask per sequence (generation), broadcast over its positions.
      const ones = onnxUnitAxes(info);
      const mask = g.input(`${info.prefix}seq_mask`, [info.samples, 'batch', ...ones, info.site.inFeatures]);
      return emitLoraUp(g, emitLoraDown(g, g.op('Mul', [x, mask]), At), Bt, this.lora.scaling);
    }
    if (this.rate === 0) return emitLoraUp(g, emitLoraDown(g, x, At), Bt, this.lora.scaling);
    const lead = info.leadDims;
    const keep = g.op('Cast', [g.input(`${info.prefix}keep`, [info.samples, ...lead, info.site.inFeatures], 'int8')], { to: 1 });
    const scaled = g.op('Mul', [keep, g.constant(new Float32Array([1 / (1 - this.rate)]), [])]);
    return emitLoraUp(g, emitLoraDown(g, g.op('Mul', [x, scaled]), At), Bt, this.lora.scaling);
  }

  onnxShared(info: OnnxSiteInfo): Record<string, OnnxFeed> {
    return loraOnnxFeeds(this.lora, info);
  }

  /** One pass's keep mask, drawn from ctx.rng as invertedDropout draws it. */
  onnxSample(info: OnnxSiteInfo, lead: readonly number[], ctx: ForwardContext, sample: number): Record<string, OnnxFeed> {
    if (this.fixed) {
      const mask = this.fixedMask(sample);
      const [b, inF] = mask.shape;
      // A decoding asks for the same masks at every step: read back once per fixing.
      let data = this.fixedFeeds.get(sample);
      if (!data) this.fixedFeeds.set(sample, (data = Float32Array.from(mask.dataSync())));
      return { [`${info.prefix}seq_mask`]: { data, dims: [b, ...onnxUnitAxes(info), inF] } };
    }
    if (this.rate === 0) return {};
    const shape = [...lead, info.site.inFeatures];
    return { [`${info.prefix}keep`]: { data: keepMaskBytes(shape, this.rate, ctx.rng), dims: shape } };
  }

  variables(): tf.Variable[] {
    return this.lora.variables();
  }

  dispose(): void {
    this.releaseMask();
    this.lora.dispose();
  }
}
