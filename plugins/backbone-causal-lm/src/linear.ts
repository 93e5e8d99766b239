import { tf } from '@bayes-peft/tensor';
import type { Adapter, ForwardContext, LinearSite, SiteKind } from '@bayes-peft/core';

/**
 * One frozen projection of the decoder and the place an adapter attaches:
 * y = x W^T (+ b) + adapter.delta(x).
 *
 * The weight is kept as the kernel W^T, [in, out], the layout a plain matmul reads: TensorFlow.js'
 * wasm backend multiplies by a transposed operand about ten times slower (XNNPACK's fast path
 * wants B untransposed), and matmuls are most of the model's time. The contract's `weight`
 * ([out, in], PyTorch layout) is materialised from the kernel only if someone reads it.
 */
export class Linear implements LinearSite {
  adapter: Adapter | null = null;
  readonly inFeatures: number;
  readonly outFeatures: number;
  private weightView: tf.Tensor2D | null = null;

  constructor(
    readonly name: string,
    readonly kind: SiteKind,
    readonly layerIndex: number | null,
    /** W^T, [in, out]. */
    readonly kernel: tf.Tensor2D,
    readonly bias: tf.Tensor1D | null,
  ) {
    [this.inFeatures, this.outFeatures] = kernel.shape;
  }

  /** W, [out, in]: a transposed copy of the kernel, made on first use and kept until dispose(). */
  get weight(): tf.Tensor2D {
    if (!this.weightView || this.weightView.isDisposed) this.weightView = tf.keep(tf.transpose(this.kernel));
    return this.weightView;
  }

  /** x [..., in] -> [..., out]. The adapter sees x with its leading axes (e.g. [B, T, in]). */
  apply(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    let y: tf.Tensor = tf.matMul(tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D, this.kernel);
    if (this.bias) y = tf.add(y, this.bias);
    y = tf.reshape(y, [...lead, this.outFeatures]);
    if (this.adapter) y = tf.add(y, this.adapter.delta(x, ctx));
    return y;
  }

  /** Frees the kernel (unless `keepKernel`, when it is shared), the bias and the weight view. */
  dispose(keepKernel = false): void {
    if (!keepKernel) this.kernel.dispose();
    this.bias?.dispose();
    this.weightView?.dispose();
    this.weightView = null;
  }
}
