import { tf } from '@bayes-peft/tensor';
import type { Adapter, ForwardContext, LinearSite, SiteKind } from '@bayes-peft/core';

/**
 * How a projection's frozen matrix is kept on the device:
 * - 'kernel': W^T, [in, out], the layout a plain matmul reads. TensorFlow.js' plain wasm backend
 *   multiplies by a transposed operand about ten times slower (XNNPACK's fast path wants B
 *   untransposed), so without native kernels the forward pass avoids that path this way.
 * - 'weight': W, [out, in], PyTorch's layout, used when transposed products cost nothing extra
 *   (the native OpenBLAS matmul, libtensorflow): no transpose at load, and a tied embedding is
 *   then one [vocab, hidden] matrix whose token lookups read contiguous rows (gathering columns
 *   of the [hidden, vocab] kernel touches a cache line per element: 5% of an evaluation).
 */
export type WeightLayout = 'kernel' | 'weight';

/**
 * One frozen projection of the decoder and the place an adapter attaches:
 * y = x W^T (+ b) + adapter.delta(x).
 *
 * The other layout's view (the contract's `weight`, or `kernel`) is materialised only if someone
 * reads it.
 */
export class Linear implements LinearSite {
  adapter: Adapter | null = null;
  readonly inFeatures: number;
  readonly outFeatures: number;
  private view: tf.Tensor2D | null = null;
  /**
   * x K for the 'kernel' layout with a gradient that multiplies by W [out, in] instead of K^T:
   * TensorFlow.js' own gradient of x K is dY K^T, the plain wasm backend's slow transposed path
   * (the backward pass then took three quarters of a training step). W is transposed from K in
   * each backward pass and freed with it (a transpose costs a few ms; the slow product ~0.5 s),
   * so no second copy of the weights outlives a step.
   */
  private readonly kernelProduct = tf.customGrad(((x: tf.Tensor2D) => ({
    value: tf.matMul(x, this.stored),
    gradFunc: (dy: tf.Tensor2D) => tf.matMul(dy, tf.transpose(this.stored)),
  })) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D) => tf.Tensor2D;

  constructor(
    readonly name: string,
    readonly kind: SiteKind,
    readonly layerIndex: number | null,
    /** The frozen matrix as kept: W^T [in, out] ('kernel') or W [out, in] ('weight'). */
    readonly stored: tf.Tensor2D,
    readonly bias: tf.Tensor1D | null,
    readonly layout: WeightLayout = 'kernel',
  ) {
    [this.inFeatures, this.outFeatures] = layout === 'kernel' ? stored.shape : [stored.shape[1], stored.shape[0]];
  }

  /** W^T, [in, out]. */
  get kernel(): tf.Tensor2D {
    return this.layout === 'kernel' ? this.stored : this.transposedView();
  }

  /** W, [out, in]. */
  get weight(): tf.Tensor2D {
    return this.layout === 'weight' ? this.stored : this.transposedView();
  }

  /** x [..., in] -> [..., out]. The adapter sees x with its leading axes (e.g. [B, T, in]). */
  apply(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    const x2 = tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D;
    let y: tf.Tensor = this.layout === 'kernel' ? this.kernelProduct(x2) : tf.matMul(x2, this.stored, false, true);
    if (this.bias) y = tf.add(y, this.bias);
    y = tf.reshape(y, [...lead, this.outFeatures]);
    if (this.adapter) y = tf.add(y, this.adapter.delta(x, ctx));
    return y;
  }

  /** Frees the stored matrix (unless `keepStored`, when it is shared), the bias and the view. */
  dispose(keepStored = false): void {
    if (!keepStored) this.stored.dispose();
    this.bias?.dispose();
    this.view?.dispose();
    this.view = null;
  }

  /** The stored matrix transposed: made on first use and kept until dispose(). */
  private transposedView(): tf.Tensor2D {
    if (!this.view || this.view.isDisposed) this.view = tf.keep(tf.transpose(this.stored));
    return this.view;
  }
}
