import { tf } from '@bayes-peft/tensor';
import type { ForwardContext } from '@bayes-peft/core';
import { attend } from './attention';
import type { Linear } from './linear';
import { rmsNorm } from './norm';
import { applyRope } from './rope';

/** RoPE inputs of one forward, shared by every layer: [B, T, 1, D] each. */
export interface RopeInputs {
  readonly cos: tf.Tensor4D;
  readonly sin: tf.Tensor4D;
  /** cos and sin times 1/sqrt(D): scaling the queries inside RoPE saves a pass over the scores. */
  readonly qCos: tf.Tensor4D;
  readonly qSin: tf.Tensor4D;
  /** halfSwapMatrix(headDim), shared by every layer's RoPE. */
  readonly swap: tf.Tensor2D;
}

/** Keys and values of the positions seen so far, after RoPE: [B, KV, T, D] each. */
// A type alias, not an interface, so it fits tf.tidy's TensorContainer.
export type LayerCache = { readonly k: tf.Tensor4D; readonly v: tf.Tensor4D };

export interface DecoderLayerParts {
  readonly index: number;
  readonly inputNorm: tf.Tensor1D;
  readonly postAttentionNorm: tf.Tensor1D;
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;
  readonly gate: Linear;
  readonly up: Linear;
  readonly down: Linear;
}

/** One pre-norm Llama block: x + attn(norm(x)), then + mlp(norm(.)). */
export class DecoderLayer {
  constructor(
    readonly parts: DecoderLayerParts,
    private readonly dims: { numHeads: number; numKeyValueHeads: number; headDim: number; rmsNormEps: number },
  ) {}

  /**
   * h [B, T, hidden] -> [B, T, hidden]. With `past`, the new keys/values are appended to the
   * cached ones and the query positions are the last T of them; the returned cache covers all.
   *
   * With `lastOnly` (the last layer of a forward that reads only the last position) the result
   * is the last position only, [B, 1, hidden], and the work no later layer reads is skipped:
   * attention, o_proj and the MLP run for that position only (close to a tenth of a forward on
   * an 8-layer model). Every adapter still sees the inputs it always saw, so a sampling adapter
   * (BLoB's flipout draws signs per token) consumes its random stream exactly as before: q, k, v
   * stay whole, and a part with an adapter on it (o_proj, the MLP) runs for every position.
   */
  forward(
    h: tf.Tensor3D,
    rope: RopeInputs,
    bias: tf.Tensor4D,
    ctx: ForwardContext,
    past: LayerCache | null,
    lastOnly = false,
  ): { h: tf.Tensor3D; cache: LayerCache } {
    const p = this.parts;
    const { numHeads, numKeyValueHeads, headDim, rmsNormEps } = this.dims;
    const [b, t] = h.shape;

    const x = rmsNorm(h, p.inputNorm, rmsNormEps);
    // q, k, v in this order: adapters draw from the forward's random stream in call order.
    const qAll = tf.reshape(p.q.apply(x, ctx), [b, t, numHeads, headDim]) as tf.Tensor4D;
    const k = tf.reshape(p.k.apply(x, ctx), [b, t, numKeyValueHeads, headDim]) as tf.Tensor4D;
    const v = tf.reshape(p.v.apply(x, ctx), [b, t, numKeyValueHeads, headDim]) as tf.Tensor4D;
    const last = <R extends tf.Rank>(y: tf.Tensor<R>, axis: number): tf.Tensor<R> => {
      const begin = y.shape.map((_, i) => (i === axis ? y.shape[axis] - 1 : 0));
      const size = y.shape.map((d, i) => (i === axis ? 1 : d));
      return tf.slice(y, begin, size);
    };
    const mlpLast = lastOnly && !p.gate.adapter && !p.up.adapter && !p.down.adapter;
    const attnLast = mlpLast && !p.o.adapter;
    const qr = attnLast ? applyRope(last(qAll, 1), last(rope.qCos, 1), last(rope.qSin, 1), rope.swap) : applyRope(qAll, rope.qCos, rope.qSin, rope.swap);
    const kNew = tf.transpose(applyRope(k, rope.cos, rope.sin, rope.swap), [0, 2, 1, 3]);
    const vNew = tf.transpose(v, [0, 2, 1, 3]);
    const kAll = past ? tf.concat([past.k, kNew], 2) : kNew;
    const vAll = past ? tf.concat([past.v, vNew], 2) : vNew;
    const attn = attend(qr, kAll, vAll, attnLast ? last(bias, 2) : bias);
    const hq = attnLast ? last(h, 1) : h;
    let h1 = tf.add(hq, p.o.apply(attn, ctx)) as tf.Tensor3D;
    if (mlpLast && !attnLast) h1 = last(h1, 1);

    const y = rmsNorm(h1, p.postAttentionNorm, rmsNormEps);
    const gate = p.gate.apply(y, ctx);
    const act = tf.mul(gate, tf.sigmoid(gate)); // SiLU
    const mlp = p.down.apply(tf.mul(act, p.up.apply(y, ctx)), ctx);
    const out = tf.add(h1, mlp) as tf.Tensor3D;
    return { h: lastOnly && !mlpLast ? last(out, 1) : out, cache: { k: kAll, v: vAll } };
  }

  linears(): Linear[] {
    const p = this.parts;
    return [p.q, p.k, p.v, p.o, p.gate, p.up, p.down];
  }

  dispose(): void {
    this.parts.inputNorm.dispose();
    this.parts.postAttentionNorm.dispose();
    for (const l of this.linears()) l.dispose();
  }
}
