import { auprc, aurc, auroc, predictionRejectionRatio, rankingMetrics } from './ranking';

const T = true;
const F = false;

describe('ranking metrics (closed forms)', () => {
  // Five questions; wrong answers are the positives.
  //   score: 0.9  0.8  0.4  0.3  0.1
  //   wrong:  T    F    T    F    F
  const scores = [0.9, 0.8, 0.4, 0.3, 0.1];
  const wrong = [T, F, T, F, F];

  it('AUROC: 2 x 3 wrong/right pairs; 0.9 beats all 3 right, 0.4 beats 0.3 and 0.1 -> 5/6', () => {
    expect(auroc(scores, wrong)).toBeCloseTo(5 / 6, 12);
  });

  it('AUPRC: 0.9 flags 1/1 wrong at recall 1/2, 0.4 flags 2/3 at recall 1 -> 1/2 * 1 + 1/2 * 2/3 = 5/6', () => {
    expect(auprc(scores, wrong)).toBeCloseTo(5 / 6, 12);
  });

  it('PRR: rejecting W, R, W, R, R leaves 2, 1, 1, 0, 0, 0 errors', () => {
    // e(k) = [0.4, 0.2, 0.2, 0, 0, 0]; trapezoids of width 1/5: (0.3 + 0.2 + 0.1) / 5 = 0.12.
    // Random: m / (2n) = 0.2. Oracle (W, W, R, R, R): e = [0.4, 0.2, 0, ...] -> (0.3 + 0.1) / 5 = 0.08 = m^2 / (2 n^2).
    // PRR = (0.2 - 0.12) / (0.2 - 0.08) = 2/3.
    expect(predictionRejectionRatio(scores, wrong)).toBeCloseTo(2 / 3, 12);
  });

  it('AURC: most confident first R, R, W, R, W -> risks 0, 0, 1/3, 1/4, 2/5', () => {
    // (1/3 + 1/4 + 2/5) / 5 = (59/60) / 5.
    expect(aurc(scores, wrong)).toBeCloseTo(59 / 300, 12);
  });

  it('a perfect score gives AUROC = AUPRC = PRR = 1 and the smallest AURC; the reversed one AUROC 0, PRR -1', () => {
    const perfect = [0.9, 0.8, 0.3, 0.2, 0.1];
    const w = [T, T, F, F, F];
    expect(rankingMetrics(perfect, w)).toEqual({ auroc: 1, auprc: 1, prr: expect.closeTo(1, 12), aurc: expect.any(Number) });
    // Oracle AURC: risks 0, 0, 0, 1/4, 2/5 -> (13/20) / 5.
    expect(aurc(perfect, w)).toBeCloseTo(13 / 100, 12);
    const reversed = perfect.map((s) => -s);
    expect(auroc(reversed, w)).toBe(0);
    // Worst order R, R, R, W, W: e = [0.4, 0.4, 0.4, 0.4, 0.2, 0] -> (0.4 + 0.4 + 0.4 + 0.3 + 0.1) / 5 = 0.32;
    // (0.2 - 0.32) / (0.2 - 0.08) = -1.
    expect(predictionRejectionRatio(reversed, w)).toBeCloseTo(-1, 12);
    // AUPRC: W at ranks 4 and 5: 1/2 * 1/4 + 1/2 * 2/5 = 0.325.
    expect(auprc(reversed, w)).toBeCloseTo(0.325, 12);
  });

  it('ties: tied wrong/right pairs count half, curves are taken in expectation over tied orders', () => {
    // score 1: one W, one R; score 0: one W, one R.
    const s = [1, 0, 1, 0];
    const w = [T, T, F, F];
    // AUROC pairs: W@1 vs R@1 half, vs R@0 one; W@0 vs R@1 none, vs R@0 half -> 2 / 4.
    expect(auroc(s, w)).toBe(0.5);
    // AURC groups (score 0 first): risks 0.5 / 1, 1 / 2, then (1 + 0.5) / 3, 2 / 4 -> all 0.5.
    expect(aurc(s, w)).toBeCloseTo(0.5, 12);
    // AUPRC thresholds 1 then 0: P = 1/2 at R = 1/2, P = 2/4 at R = 1 -> 0.5.
    expect(auprc(s, w)).toBeCloseTo(0.5, 12);
    // PRR: each group removes 1 error over 2 rejections -> e linear 0.5, 0.25, 0 -> same as random: 0.
    expect(predictionRejectionRatio(s, w)).toBeCloseTo(0, 12);
    // A constant score is exactly random: 1 wrong of 4 -> area 1/8 = m / (2n), PRR 0; AUPRC = error rate.
    const flat = [5, 5, 5, 5];
    const w1 = [F, T, F, F];
    expect(predictionRejectionRatio(flat, w1)).toBeCloseTo(0, 12);
    expect(auprc(flat, w1)).toBeCloseTo(0.25, 12);
    expect(auroc(flat, w1)).toBe(0.5);
  });

  it('agrees with the definitions computed by brute force over every order of tied scores', () => {
    // Small inputs with many ties: AUROC over all pairs; PRR's area and AURC averaged over every
    // permutation that sorts the scores (each order of the tied questions equally likely).
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let checked = 0;
    for (let trial = 0; trial < 40; trial++) {
      const n = 2 + Math.floor(next() * 5);
      const s = Array.from({ length: n }, () => Math.floor(next() * 3));
      const w = Array.from({ length: n }, () => next() < 0.4);
      const m = w.filter(Boolean).length;
      if (m === 0 || m === n) continue;
      let pairs = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (w[i] && !w[j]) pairs += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
      expect(auroc(s, w)).toBeCloseTo(pairs / (m * (n - m)), 12);
      const orders = permutations(n);
      const desc = orders.filter((o) => o.every((x, k) => k === 0 || s[o[k - 1]] >= s[x]));
      let area = 0;
      for (const o of desc) {
        const e = [m / n];
        let left = m;
        for (const i of o) e.push((left -= w[i] ? 1 : 0) / n);
        for (let k = 0; k < n; k++) area += (e[k] + e[k + 1]) / 2 / n / desc.length;
      }
      expect(predictionRejectionRatio(s, w)).toBeCloseTo((m / (2 * n) - area) / (m / (2 * n) - (m * m) / (2 * n * n)), 12);
      const asc = orders.filter((o) => o.every((x, k) => k === 0 || s[o[k - 1]] <= s[x]));
      let risk = 0;
      for (const o of asc) {
        let bad = 0;
        o.forEach((i, k) => (risk += (bad += w[i] ? 1 : 0) / (k + 1) / n / asc.length));
      }
      expect(aurc(s, w)).toBeCloseTo(risk, 12);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('does not depend on the input order', () => {
    const order = [3, 0, 4, 2, 1];
    const s = order.map((i) => scores[i]);
    const w = order.map((i) => wrong[i]);
    expect(rankingMetrics(s, w)).toEqual(rankingMetrics(scores, wrong));
  });

  it('all right or all wrong: AUROC, AUPRC and PRR are NaN; AURC is the risk, 0 or 1; no questions: all NaN', () => {
    const right = rankingMetrics([0.1, 0.5, 0.9], [F, F, F]);
    expect(right.auroc).toBeNaN();
    expect(right.auprc).toBeNaN();
    expect(right.prr).toBeNaN();
    expect(right.aurc).toBe(0);
    const allWrong = rankingMetrics([0.1, 0.5, 0.9], [T, T, T]);
    expect(allWrong.auroc).toBeNaN();
    expect(allWrong.auprc).toBeNaN();
    expect(allWrong.prr).toBeNaN();
    expect(allWrong.aurc).toBe(1);
    const none = rankingMetrics([], []);
    for (const v of Object.values(none)) expect(v).toBeNaN();
  });

  it('refuses mismatched lengths and NaN scores', () => {
    expect(() => auroc([0.1], [T, F])).toThrow(/1 scores for 2 answers/);
    expect(() => aurc([NaN, 1], [T, F])).toThrow(/score 0 is NaN/);
  });
});

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));
}
