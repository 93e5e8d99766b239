/**
 * A thin singular value decomposition for LoRA's B ([out, r], r small) on the host, in float64:
 * TensorFlow.js has no SVD op. One-sided Jacobi (Hestenes): plane rotations V make the columns
 * of W = M V mutually orthogonal, so M = W V^T with W = U diag(d), d_j = |W_:j|. It never forms
 * M^T M, so small singular values keep their relative accuracy, and a rank-deficient M (a
 * fresh adapter's B = 0, or unused directions) needs no special case.
 */

export interface ThinSvd {
  /** Right singular vectors, [n, n] row-major (V[i * n + j] = V_ij), orthogonal. */
  readonly V: Float64Array;
  /** Singular values, descending, >= 0. */
  readonly d: Float64Array;
  /** M V = U diag(d), [m, n] row-major: columns mutually orthogonal with norms d. */
  readonly MV: Float64Array;
  /** Jacobi sweeps used. */
  readonly sweeps: number;
}

/**
 * Thin SVD of M ([m, n] row-major, any m >= 1, n small). `tolerance`: columns p, q count as
 * orthogonal when |w_p . w_q| <= tolerance |w_p| |w_q| (default 1e-15).
 */
export function jacobiSvd(M: ArrayLike<number>, m: number, n: number, options: { tolerance?: number; maxSweeps?: number } = {}): ThinSvd {
  if (M.length !== m * n) throw new Error(`jacobiSvd: ${M.length} values for a [${m}, ${n}] matrix`);
  const tol = options.tolerance ?? 1e-15;
  const maxSweeps = options.maxSweeps ?? 60;
  // columns of W (copies of M's) and of V (identity)
  const W = Array.from({ length: n }, (_, j) => {
    const col = new Float64Array(m);
    for (let i = 0; i < m; i++) col[i] = M[i * n + j];
    return col;
  });
  const Vc = Array.from({ length: n }, (_, j) => {
    const col = new Float64Array(n);
    col[j] = 1;
    return col;
  });
  let sweeps = 0;
  for (; sweeps < maxSweeps; sweeps++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const wp = W[p];
        const wq = W[q];
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          alpha += wp[i] * wp[i];
          beta += wq[i] * wq[i];
          gamma += wp[i] * wq[i];
        }
        if (gamma === 0 || Math.abs(gamma) <= tol * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotate(wp, wq, c, s);
        rotate(Vc[p], Vc[q], c, s);
      }
    }
    if (!rotated) break;
  }
  const norms = W.map((col) => Math.sqrt(col.reduce((a, v) => a + v * v, 0)));
  const order = norms.map((_, j) => j).sort((a, b) => norms[b] - norms[a]);
  const d = new Float64Array(n);
  const V = new Float64Array(n * n);
  const MV = new Float64Array(m * n);
  order.forEach((src, j) => {
    d[j] = norms[src];
    for (let i = 0; i < n; i++) V[i * n + j] = Vc[src][i];
    for (let i = 0; i < m; i++) MV[i * n + j] = W[src][i];
  });
  return { V, d, MV, sweeps };
}

/** (x, y) <- (c x - s y, s x + c y), in place. */
function rotate(x: Float64Array, y: Float64Array, c: number, s: number): void {
  for (let i = 0; i < x.length; i++) {
    const a = x[i];
    const b = y[i];
    x[i] = c * a - s * b;
    y[i] = s * a + c * b;
  }
}
