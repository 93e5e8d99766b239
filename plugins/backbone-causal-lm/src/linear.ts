import { frozenLinear, gatherHostRows, tf, widenRows, type HostMatrix } from '@bayes-peft/tensor';
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
 * Where a frozen matrix is kept: on the device as a float32 tensor in one of the two layouts,
 * or in host memory in its stored dtype (BF16, F16 or F32) when the model would not fit the
 * device as float32 (see weights.ts): the products then read it in place.
 */
export type Frozen = { readonly place: 'device'; readonly tensor: tf.Tensor2D; readonly layout: WeightLayout } | { readonly place: 'host'; readonly matrix: HostMatrix };

/** W [out, in] of a frozen matrix: its rows and columns whatever the layout. */
export function frozenShape(f: Frozen): [number, number] {
  if (f.place === 'host') return [f.matrix.rows, f.matrix.cols];
  const [a, b] = f.tensor.shape;
  return f.layout === 'weight' ? [a, b] : [b, a];
}

/** Rows `ids` of W [out, in] as a float32 tensor [ids.length, in] (embedding lookups, head columns). */
export function frozenRows(f: Frozen, ids: readonly number[] | Int32Array): tf.Tensor2D {
  if (f.place === 'host') return gatherHostRows(f.matrix, ids);
  const idx = tf.tensor1d(Array.from(ids), 'int32');
  return f.layout === 'weight' ? (tf.gather(f.tensor, idx) as tf.Tensor2D) : (tf.transpose(tf.gather(f.tensor, idx, 1)) as tf.Tensor2D);
}

/** Frees a frozen matrix's device tensor (host memory is the garbage collector's). */
export function disposeFrozen(f: Frozen): void {
  if (f.place === 'device') f.tensor.dispose();
}

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
  /** A host matrix widened to a device tensor, W [out, in], made when `weight` is read. */
  private hostView: tf.Tensor2D | null = null;
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
  /** x W^T for a host matrix, its gradient dy W read from the host again. */
  private readonly hostProduct: ((x: tf.Tensor2D) => tf.Tensor2D) | null;

  constructor(
    readonly name: string,
    readonly kind: SiteKind,
    readonly layerIndex: number | null,
    /** The frozen matrix, on the device (W^T [in, out] or W [out, in]) or in host memory. */
    readonly frozen: Frozen,
    readonly bias: tf.Tensor1D | null,
  ) {
    [this.outFeatures, this.inFeatures] = frozenShape(frozen);
    this.hostProduct = frozen.place === 'host' ? frozenLinear(frozen.matrix) : null;
  }

  /** How the device matrix is laid out ('weight' for a host matrix, which is W [out, in]). */
  get layout(): WeightLayout {
    return this.frozen.place === 'device' ? this.frozen.layout : 'weight';
  }

  /** The device tensor of the frozen matrix, as kept (W^T or W); a host matrix has none. */
  get stored(): tf.Tensor2D {
    if (this.frozen.place !== 'device') throw new Error(`${this.name}: its weights are kept in host memory, not as a device tensor`);
    return this.frozen.tensor;
  }

  /** W^T, [in, out]. */
  get kernel(): tf.Tensor2D {
    return this.frozen.place === 'device' && this.frozen.layout === 'kernel' ? this.frozen.tensor : this.transposedView();
  }

  /**
   * W, [out, in]. A host matrix is widened into a device tensor on first read and kept until
   * dispose(): a method that reads frozen weights pays for one float32 copy of this matrix.
   */
  get weight(): tf.Tensor2D {
    if (this.frozen.place === 'device') return this.frozen.layout === 'weight' ? this.frozen.tensor : this.transposedView();
    if (!this.hostView || this.hostView.isDisposed) this.hostView = tf.keep(tf.tensor2d(widenRows(this.frozen.matrix), [this.outFeatures, this.inFeatures]));
    return this.hostView;
  }

  /** x [..., in] -> [..., out]. The adapter sees x with its leading axes (e.g. [B, T, in]). */
  apply(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    const x2 = tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D;
    let y: tf.Tensor = this.hostProduct
      ? this.hostProduct(x2)
      : this.layout === 'kernel'
        ? this.kernelProduct(x2)
        : tf.matMul(x2, this.stored, false, true);
    if (this.bias) y = tf.add(y, this.bias);
    y = tf.reshape(y, [...lead, this.outFeatures]);
    if (this.adapter) y = tf.add(y, this.adapter.delta(x, ctx));
    return y;
  }

  /** Frees the stored matrix (unless `keepStored`, when it is shared), the bias and the view. */
  dispose(keepStored = false): void {
    if (!keepStored) disposeFrozen(this.frozen);
    this.bias?.dispose();
    this.view?.dispose();
    this.view = null;
    this.hostView?.dispose();
    this.hostView = null;
  }

  /** The stored matrix transposed: made on first use and kept until dispose(). */
  private transposedView(): tf.Tensor2D {
    if (!this.view || this.view.isDisposed) this.view = tf.keep(tf.transpose(this.frozen.place === 'device' ? this.frozen.tensor : this.weight));
    return this.view;
  }
}
