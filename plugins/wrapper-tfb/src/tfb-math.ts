/**
 * TFB's maths (docs/methods.md, 'TFB'; docs/reference-differences.md rows 67-77): Training-Free
 * Bayesianization of a trained LoRA adapter. The flipout sampler that uses sigma is BLoB's (from
 * @bayes-peft/bayes-lora); the search for beta is in beta-search.ts.
 *
 * Reparameterisation, per layer: the thin SVD B = U diag(d) V^T ([out, r], svd.ts), then
 *
 *     B' = U diag(d) = B V,   A' = V^T A,      so   B' A' = B V V^T A = B A    (the model is unchanged)
 *
 * Posterior: q(A') = N(A', sigma^2) elementwise with one std per row i of A' (all in_features):
 *
 *     sigma_i = beta / max(d_i, floor),   floor = singularValueFloor * max_j d_j        (sigma_i = 0 if both are 0)
 *
 * so the output noise s B' E x has std beta s |E-row x| along each singular direction u_i with
 * d_i above the floor, and less along directions B barely uses. The reference divides by
 * d_i + 1e-6, which explodes for d_i ≈ 0 (compat `sigmaEpsilon`).
 *
 * Criteria on the anchor set, against the posterior mean's (beta = 0) probabilities p0 and
 * predictions y0 = argmax p0, for the sample-averaged probabilities p at a candidate beta:
 *
 *     nll:       |NLL(p, y0) - NLL(p0, y0)| / NLL(p0, y0),   NLL(p, y) = mean_n -log(p_n[y_n] + 1e-12)
 *     accuracy:  mean_n 1[argmax p_n != y0_n]          (tfblora_acc's changed_class_ratio)
 *
 * The reference also divides the nll ratio by the anchor count (compat `divideByAnchorCount`).
 *
 * On an open-ended anchor set (answer batches) the rows are the answer tokens, and the targets
 * are the anchor's true next tokens y (the reference has no such search; its analogue of y0 for
 * texts would be the mean model's own continuation):
 *
 *     nll:       |NLL(p, y) - NLL(p0, y)| / NLL(p0, y),   NLL(p, y) = mean_tokens -log(p_i[y_i] + 1e-12)
 *     accuracy:  mean_tokens 1[argmax p_i != argmax p0_i]
 */
import { jacobiSvd } from './svd';

/** The reference's guard inside the log of the anchor NLL. */
export const NLL_GUARD = 1e-12;
/** The reference's guard on singular values: sigma_i = beta / (d_i + 1e-6). */
export const REFERENCE_SV_EPSILON = 1e-6;

export interface Reparameterised {
  /** A' = V^T A, [r, in] row-major. */
  readonly A: Float32Array;
  /** B' = B V = U diag(d), [out, r] row-major. */
  readonly B: Float32Array;
  /** Singular values of B, descending. */
  readonly d: Float64Array;
}

/** B' = B V, A' = V^T A from the thin SVD of B (float64 on the host, stored as float32). */
export function reparameterise(A: ArrayLike<number>, B: ArrayLike<number>, r: number, inF: number, outF: number): Reparameterised {
  if (A.length !== r * inF || B.length !== outF * r) throw new Error(`reparameterise: A has ${A.length} values (want ${r}x${inF}), B ${B.length} (want ${outF}x${r})`);
  const { V, d, MV } = jacobiSvd(B, outF, r);
  // A'_j = sum_k V_kj A_k, accumulated in float64
  const acc = new Float64Array(r * inF);
  for (let j = 0; j < r; j++) {
    for (let k = 0; k < r; k++) {
      const v = V[k * r + j];
      if (v !== 0) for (let c = 0; c < inF; c++) acc[j * inF + c] += v * A[k * inF + c];
    }
  }
  return { A: Float32Array.from(acc), B: Float32Array.from(MV), d };
}

export interface SigmaRule {
  /** Floor on d relative to the layer's largest singular value. */
  readonly singularValueFloor: number;
  /** The reference's sigma_i = beta / (d_i + 1e-6) instead of the floor. */
  readonly sigmaEpsilon: boolean;
}

/** sigma_i of each row of A' for the noise scale beta (see the header). */
export function rowSigmas(d: ArrayLike<number>, beta: number, rule: SigmaRule): Float64Array {
  const out = new Float64Array(d.length);
  if (rule.sigmaEpsilon) {
    for (let i = 0; i < d.length; i++) out[i] = beta / (d[i] + REFERENCE_SV_EPSILON);
    return out;
  }
  let max = 0;
  for (let i = 0; i < d.length; i++) max = Math.max(max, d[i]);
  const floor = rule.singularValueFloor * max;
  for (let i = 0; i < d.length; i++) {
    const denom = Math.max(d[i], floor);
    out[i] = denom > 0 ? beta / denom : 0;
  }
  return out;
}

/** NLL(p, y) = mean_n -log(p_n[y_n] + 1e-12). */
export function anchorNll(probs: readonly (readonly number[])[], targets: readonly number[]): number {
  let s = 0;
  probs.forEach((p, n) => (s -= Math.log(p[targets[n]] + NLL_GUARD)));
  return s / probs.length;
}

/** TFB's NLL criterion: |NLL(p, y0) - NLL(p0, y0)| / NLL(p0, y0) [/ divideBy]. */
export function nllCriterion(p0: readonly (readonly number[])[], p: readonly (readonly number[])[], y0: readonly number[], divideBy = 1): number {
  const nll0 = anchorNll(p0, y0);
  const nll = anchorNll(p, y0);
  const diff = Math.abs(nll - nll0);
  if (nll0 === 0) return diff === 0 ? 0 : Infinity;
  return diff / nll0 / divideBy;
}

/**
 * The NLL criterion on answer tokens: p0[i], p[i] are the probabilities the mean model and the
 * sampled one give the true next token of answer token i. |NLL - NLL0| / NLL0 [/ divideBy].
 */
export function answerNllCriterion(p0: readonly number[], p: readonly number[], divideBy = 1): number {
  if (p0.length !== p.length) throw new Error(`answerNllCriterion: ${p0.length} reference tokens, ${p.length} sampled`);
  const nll = (q: readonly number[]) => q.reduce((s, v) => s - Math.log(v + NLL_GUARD), 0) / q.length;
  const nll0 = nll(p0);
  const diff = Math.abs(nll(p) - nll0);
  if (nll0 === 0) return diff === 0 ? 0 : Infinity;
  return diff / nll0 / divideBy;
}

/** The accuracy criterion on answer tokens: the fraction whose argmax differs from the mean model's. */
export function changedTokenRatio(argmax: readonly number[], argmax0: readonly number[]): number {
  if (argmax.length !== argmax0.length) throw new Error(`changedTokenRatio: ${argmax0.length} reference tokens, ${argmax.length} sampled`);
  let changed = 0;
  argmax.forEach((k, i) => (changed += k !== argmax0[i] ? 1 : 0));
  return changed / argmax.length;
}

/** tfblora_acc's criterion: the fraction of anchor examples whose argmax differs from y0. */
export function changedClassRatio(p: readonly (readonly number[])[], y0: readonly number[]): number {
  let changed = 0;
  p.forEach((row, n) => (changed += argmax(row) !== y0[n] ? 1 : 0));
  return changed / p.length;
}

export function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}
