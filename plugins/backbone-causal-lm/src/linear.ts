import { tf } from '@bayes-peft/tensor';
import type { Adapter, ForwardContext, LinearSite, SiteKind } from '@bayes-peft/core';

/**
 * One frozen projection of the decoder and the place an adapter attaches:
 * y = x W^T (+ b) + adapter.delta(x). W stays in PyTorch's [out, in] layout, which is what the
 * contract exposes and what a transposed-B matmul reads directly (no transposed copy).
 */
export class Linear implements LinearSite {
  adapter: Adapter | null = null;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(
    readonly name: string,
    readonly kind: SiteKind,
    readonly layerIndex: number | null,
    readonly weight: tf.Tensor2D,
    readonly bias: tf.Tensor1D | null,
  ) {
    [this.outFeatures, this.inFeatures] = weight.shape;
  }

  /** x [..., in] -> [..., out]. The adapter sees x with its leading axes (e.g. [B, T, in]). */
  apply(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    let y: tf.Tensor = tf.matMul(tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D, this.weight, false, true);
    if (this.bias) y = tf.add(y, this.bias);
    y = tf.reshape(y, [...lead, this.outFeatures]);
    if (this.adapter) y = tf.add(y, this.adapter.delta(x, ctx));
    return y;
  }
}
