import type { Adapter, ForwardContext } from '@bayes-peft/core';
import { onnxUnitAxes, type OnnxAdapter, type OnnxFeed, type OnnxGraphBuilder, type OnnxSiteInfo } from '@bayes-peft/onnx';
import { emitLoraUp, loraOnnxFeeds, type LoraAdapter } from '@bayes-peft/lora';
import type { tf } from '@bayes-peft/tensor';

/**
 * One site's adapter for a whole ensemble: the LoRA of every member, of which one acts
 * (delta = s B_m A_m dropout(x), LoRA dropout only while training): in a sampled call
 * (prediction, generation) weight sample m is member m; elsewhere (a training step) the
 * `active` one, which the wrapper switches. A forward pass sees exactly one member.
 */
export class EnsembleAdapter implements Adapter, OnnxAdapter {
  private current = 0;

  constructor(readonly members: readonly LoraAdapter[]) {
    if (members.length === 0) throw new Error('deep-ensemble: an ensemble adapter needs at least one member');
  }

  get active(): number {
    return this.current;
  }

  set active(m: number) {
    if (!Number.isInteger(m) || m < 0 || m >= this.members.length) {
      throw new Error(`deep-ensemble: member ${m} does not exist (0..${this.members.length - 1})`);
    }
    this.current = m;
  }

  delta(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return this.memberOf(ctx.sample).delta(x, ctx);
  }

  onnxSignature(): string {
    return `ensemble-${this.members.length}`;
  }

  /**
   * Sample s of an onnxruntime forward is member s: per-sample A^T [.., in, r] and B^T [.., r, out]
   * (with unit axes that broadcast over the batch and positions), LoRA's two products.
   */
  emitOnnx(g: OnnxGraphBuilder, x: string, info: OnnxSiteInfo): string {
    const { r } = this.members[0].shape;
    const ones = onnxUnitAxes(info);
    const At = g.input(`${info.prefix}A_t`, [info.samples, ...ones, info.site.inFeatures, r]);
    const Bt = g.input(`${info.prefix}B_t`, [info.samples, ...ones, r, info.site.outFeatures]);
    return emitLoraUp(g, g.op('MatMul', [x, At]), Bt, this.members[0].scaling);
  }

  onnxShared(): Record<string, OnnxFeed> {
    return {};
  }

  onnxSample(info: OnnxSiteInfo, _lead: readonly number[], _ctx: ForwardContext, sample: number): Record<string, OnnxFeed> {
    const ones = onnxUnitAxes(info);
    const feeds = loraOnnxFeeds(this.memberOf(sample), info);
    return Object.fromEntries(Object.entries(feeds).map(([name, f]) => [name, { data: f.data, dims: [...ones, ...f.dims] }]));
  }

  /**
   * Member `sample mod members` of a sampled call (open-ended evaluation may ask for more answers
   * than there are members: they cycle), the active one outside them.
   */
  private memberOf(sample: number | undefined): LoraAdapter {
    if (sample === undefined) return this.members[this.current];
    if (!Number.isInteger(sample) || sample < 0) throw new Error(`deep-ensemble: weight sample ${sample} is not a sample index`);
    return this.members[sample % this.members.length];
  }

  /** Every member's A and B, site-wise. */
  variables(): tf.Variable[] {
    return this.members.flatMap((m) => m.variables());
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
  }
}
