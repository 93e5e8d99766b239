import { Rng } from '@bayes-peft/core';
import { jacobiSvd } from './svd';

function randomMatrix(m: number, n: number, rng: Rng, scale = 1): Float64Array {
  return Float64Array.from({ length: m * n }, () => rng.normal() * scale);
}

/** max |M - (MV) V^T| and max |V^T V - I|, |W^T W - diag(d^2)| off the diagonal. */
function errors(M: ArrayLike<number>, m: number, n: number) {
  const { V, d, MV } = jacobiSvd(M, m, n);
  let recon = 0;
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < n; k++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += MV[i * n + j] * V[k * n + j];
      recon = Math.max(recon, Math.abs(s - M[i * n + k]));
    }
  }
  let orthV = 0;
  let orthW = 0;
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      let v = 0;
      let w = 0;
      for (let k = 0; k < n; k++) v += V[k * n + a] * V[k * n + b];
      for (let i = 0; i < m; i++) w += MV[i * n + a] * MV[i * n + b];
      orthV = Math.max(orthV, Math.abs(v - (a === b ? 1 : 0)));
      if (a === b) expect(Math.sqrt(w)).toBeCloseTo(d[a], 10);
      else orthW = Math.max(orthW, Math.abs(w) / Math.max(1e-300, d[a] * d[b]));
    }
  }
  return { d, recon, orthV, orthW };
}

describe('jacobiSvd', () => {
  it.each([
    [40, 8],
    [4096, 8],
    [5, 5],
    [3, 1],
  ])('decomposes a random [%i, %i] matrix: M = (M V) V^T, V orthogonal, columns of M V orthogonal with norms d (descending)', (m, n) => {
    const M = randomMatrix(m, n, new Rng(m * 31 + n));
    const { d, recon, orthV, orthW } = errors(M, m, n);
    expect(recon).toBeLessThan(1e-12 * Math.sqrt(m));
    expect(orthV).toBeLessThan(1e-13);
    if (n > 1) expect(orthW).toBeLessThan(1e-12);
    for (let j = 1; j < n; j++) expect(d[j]).toBeLessThanOrEqual(d[j - 1]);
  });

  it('gives the known singular values of a matrix built from them, small ones to full relative accuracy', () => {
    // M = Q diag(s) with Q's columns orthonormal (Gram-Schmidt of a random matrix): singular values s
    const m = 50;
    const s = [3, 1, 1e-3, 1e-7];
    const rng = new Rng(2);
    const Q: number[][] = [];
    for (let j = 0; j < s.length; j++) {
      let v = Array.from({ length: m }, () => rng.normal());
      for (const q of Q) {
        const dot = v.reduce((a, x, i) => a + x * q[i], 0);
        v = v.map((x, i) => x - dot * q[i]);
      }
      const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
      Q.push(v.map((x) => x / norm));
    }
    // mix the columns with a rotation so the input is not already orthogonal
    const R = jacobiSvd(randomMatrix(4, 4, new Rng(3)), 4, 4).V;
    const M = new Float64Array(m * 4);
    for (let i = 0; i < m; i++) for (let k = 0; k < 4; k++) for (let j = 0; j < 4; j++) M[i * 4 + k] += Q[j][i] * s[j] * R[k * 4 + j];
    const { d } = jacobiSvd(M, m, 4);
    s.forEach((want, j) => expect(d[j] / want).toBeCloseTo(1, 6));
  });

  it('handles rank deficiency: B = 0 (a fresh adapter), a zero column, repeated columns', () => {
    expect(Array.from(jacobiSvd(new Float64Array(20 * 4), 20, 4).d)).toEqual([0, 0, 0, 0]);
    const rng = new Rng(5);
    const M = new Float64Array(30 * 3);
    for (let i = 0; i < 30; i++) {
      const x = rng.normal();
      M[i * 3] = x;
      M[i * 3 + 1] = 2 * x; // parallel to column 0
      M[i * 3 + 2] = 0;
    }
    const { d, recon } = errors(M, 30, 3);
    expect(d[1]).toBeLessThan(1e-12 * d[0]);
    expect(d[2]).toBe(0);
    expect(recon).toBeLessThan(1e-12);
  });
});
