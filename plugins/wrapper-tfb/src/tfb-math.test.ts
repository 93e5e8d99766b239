import { Rng } from '@bayes-peft/core';
import { REFERENCE_SV_EPSILON, anchorNll, answerNllCriterion, changedClassRatio, changedTokenRatio, nllCriterion, reparameterise, rowSigmas } from './tfb-math';

/** (B A)[o, c] in float64 from float32 row-major arrays. */
function product(B: ArrayLike<number>, A: ArrayLike<number>, out: number, r: number, inF: number): Float64Array {
  const P = new Float64Array(out * inF);
  for (let o = 0; o < out; o++) for (let k = 0; k < r; k++) for (let c = 0; c < inF; c++) P[o * inF + c] += B[o * r + k] * A[k * inF + c];
  return P;
}

describe('TFB reparameterisation B = U diag(d) V^T -> B\' = U diag(d), A\' = V^T A', () => {
  it('keeps B A unchanged (max abs error at float32 rounding) and makes the columns of B\' orthogonal with norms d', () => {
    const rng = new Rng(1);
    const [r, inF, outF] = [8, 64, 96];
    const A = Float32Array.from({ length: r * inF }, () => (2 * rng.next() - 1) / 8);
    const B = Float32Array.from({ length: outF * r }, () => rng.normal() * 0.05);
    const re = reparameterise(A, B, r, inF, outF);
    const before = product(B, A, outF, r, inF);
    const after = product(re.B, re.A, outF, r, inF);
    let err = 0;
    let scale = 0;
    before.forEach((v, i) => {
      err = Math.max(err, Math.abs(v - after[i]));
      scale = Math.max(scale, Math.abs(v));
    });
    expect(err).toBeLessThan(1e-6 * scale + 1e-9);
    for (let a = 0; a < r; a++) {
      for (let b = 0; b < r; b++) {
        let dot = 0;
        for (let o = 0; o < outF; o++) dot += re.B[o * r + a] * re.B[o * r + b];
        if (a === b) expect(Math.sqrt(dot)).toBeCloseTo(re.d[a], 5);
        else expect(Math.abs(dot)).toBeLessThan(1e-6 * re.d[0] ** 2);
      }
    }
    for (let j = 1; j < r; j++) expect(re.d[j]).toBeLessThanOrEqual(re.d[j - 1]);
  });

  it('leaves a fresh adapter (B = 0) a fresh adapter', () => {
    const A = Float32Array.from({ length: 4 * 6 }, (_, i) => i / 10);
    const re = reparameterise(A, new Float32Array(5 * 4), 4, 6, 5);
    expect(Array.from(re.d)).toEqual([0, 0, 0, 0]);
    expect(Array.from(re.B).every((x) => x === 0)).toBe(true);
  });
});

describe('row sigmas', () => {
  it('sigma_i = beta / max(d_i, floor * max d); 0 for a layer whose B is 0', () => {
    const rule = { singularValueFloor: 0.01, sigmaEpsilon: false };
    const s = rowSigmas([2, 0.5, 1e-3, 0], 0.1, rule);
    expect(Array.from(s)).toEqual([0.05, 0.2, 0.1 / 0.02, 0.1 / 0.02].map((x) => expect.closeTo(x, 12)));
    expect(Array.from(rowSigmas([0, 0], 0.1, rule))).toEqual([0, 0]);
    expect(Array.from(rowSigmas([3, 0], 0.1, { singularValueFloor: 0, sigmaEpsilon: false }))).toEqual([0.1 / 3, 0]);
  });

  it("compat sigmaEpsilon is the reference's beta / (d + 1e-6), which explodes as d -> 0", () => {
    const s = rowSigmas([2, 0], 0.1, { singularValueFloor: 0.01, sigmaEpsilon: true });
    expect(s[0]).toBeCloseTo(0.1 / (2 + REFERENCE_SV_EPSILON), 12);
    expect(s[1]).toBeCloseTo(1e5, 6);
  });
});

describe('anchor criteria', () => {
  const p0 = [
    [0.7, 0.2, 0.1],
    [0.1, 0.6, 0.3],
    [0.5, 0.25, 0.25],
    [0.2, 0.2, 0.6],
  ];
  const y0 = [0, 1, 0, 2];
  const p = [
    [0.6, 0.3, 0.1],
    [0.1, 0.45, 0.45],
    [0.3, 0.5, 0.2],
    [0.2, 0.2, 0.6],
  ];

  it('nll: |NLL(p, y0) - NLL(p0, y0)| / NLL(p0, y0), by hand', () => {
    const nll0 = -(Math.log(0.7) + Math.log(0.6) + Math.log(0.5) + Math.log(0.6)) / 4;
    const nll = -(Math.log(0.6) + Math.log(0.45) + Math.log(0.3) + Math.log(0.6)) / 4;
    expect(anchorNll(p0, y0)).toBeCloseTo(nll0, 9);
    expect(nllCriterion(p0, p, y0)).toBeCloseTo(Math.abs(nll - nll0) / nll0, 9);
    expect(nllCriterion(p0, p0, y0)).toBe(0);
    // the reference also divides by the anchor count
    expect(nllCriterion(p0, p, y0, 4)).toBeCloseTo(Math.abs(nll - nll0) / nll0 / 4, 9);
  });

  it('accuracy: the fraction of changed argmax predictions (ties go to the first class)', () => {
    // row 1: 0.45 = 0.45 -> argmax 1 (unchanged); row 2: argmax 1 != 0 (changed)
    expect(changedClassRatio(p, y0)).toBe(0.25);
    expect(changedClassRatio(p0, y0)).toBe(0);
  });
});

describe('anchor criteria on answer tokens', () => {
  // per answer token: the probability of the true next token under the mean model (p0) and the sampled one (p)
  const p0 = [0.5, 0.8, 0.25];
  const p = [0.4, 0.8, 0.125];

  it('nll: |NLL - NLL0| / NLL0 over the true next tokens, by hand', () => {
    const nll0 = -(Math.log(0.5) + Math.log(0.8) + Math.log(0.25)) / 3;
    const nll = -(Math.log(0.4) + Math.log(0.8) + Math.log(0.125)) / 3;
    expect(answerNllCriterion(p0, p)).toBeCloseTo(Math.abs(nll - nll0) / nll0, 9);
    expect(answerNllCriterion(p0, p, 2)).toBeCloseTo(Math.abs(nll - nll0) / nll0 / 2, 9);
    expect(answerNllCriterion(p0, p0)).toBe(0);
    expect(() => answerNllCriterion(p0, [0.5])).toThrow(/3 reference tokens, 1 sampled/);
  });

  it('accuracy: the fraction of answer tokens whose argmax changed', () => {
    expect(changedTokenRatio([4, 7, 7, 1], [4, 7, 2, 3])).toBe(0.5);
    expect(changedTokenRatio([4, 7], [4, 7])).toBe(0);
  });
});
