/**
 * How well an uncertainty score ranks wrong answers above right ones. Inputs per question: a
 * score (higher = less sure) and whether the answer is wrong. Wrong answers are the positive
 * class throughout.
 *
 * Ties: questions with equal scores have no order of their own, so each metric takes its value in
 * expectation over the orders of tied questions (AUROC: a tied wrong/right pair counts half) or,
 * for AUPRC, one threshold per distinct score. Results do not depend on the input order.
 *
 * Degenerate input: AUROC, AUPRC and PRR compare wrong with right answers and are NaN when all
 * answers are right or all are wrong (nothing to rank), so a mean over runs shows the gap instead
 * of averaging in a made-up value. AURC is a risk, defined without both classes (0 when all
 * are right, 1 when all are wrong). All four are NaN for no questions.
 */

export interface RankingMetrics {
  readonly auroc: number;
  readonly auprc: number;
  readonly prr: number;
  readonly aurc: number;
}

export function rankingMetrics(scores: readonly number[], wrong: readonly boolean[]): RankingMetrics {
  return {
    auroc: auroc(scores, wrong),
    auprc: auprc(scores, wrong),
    prr: predictionRejectionRatio(scores, wrong),
    aurc: aurc(scores, wrong),
  };
}

/** P(score of a wrong answer > score of a right one), ties counting half (the Mann-Whitney U statistic over n_wrong · n_right). */
export function auroc(scores: readonly number[], wrong: readonly boolean[]): number {
  const groups = tieGroups(scores, wrong, 'ascending');
  const nWrong = countWrong(wrong);
  const nRight = wrong.length - nWrong;
  if (nWrong === 0 || nRight === 0) return NaN;
  // Right answers below the current group, each wrong answer beating all of them and half of its own group's right ones.
  let rightBelow = 0;
  let pairs = 0;
  for (const g of groups) {
    pairs += g.wrong * (rightBelow + g.right / 2);
    rightBelow += g.right;
  }
  return pairs / (nWrong * nRight);
}

/**
 * Average precision with wrong answers as positives: Σ_t (R_t - R_{t-1}) P_t over the distinct
 * scores t from the highest down, where P_t and R_t are the precision and recall of flagging every
 * answer with score >= t (scikit-learn's `average_precision_score`). A random score gives about
 * the error rate, a perfect one 1.
 */
export function auprc(scores: readonly number[], wrong: readonly boolean[]): number {
  const groups = tieGroups(scores, wrong, 'descending');
  const nWrong = countWrong(wrong);
  if (nWrong === 0 || nWrong === wrong.length) return NaN;
  let tp = 0;
  let flagged = 0;
  let ap = 0;
  for (const g of groups) {
    tp += g.wrong;
    flagged += g.wrong + g.right;
    ap += (g.wrong / nWrong) * (tp / flagged);
  }
  return ap;
}

/**
 * Prediction-rejection ratio (Malinin et al.): reject answers in order of decreasing score, each
 * rejected answer handed to an oracle that is always right. With n answers, m of them wrong, the
 * rejection curve is e(k) = (wrong answers among the n - k kept) / n for k = 0..n rejected, from
 * m/n to 0, taken in expectation over the orders of tied scores; AUC is its trapezoidal area on
 * rejection fractions k/n. A random order has expected area AUC_random = m / (2n), the oracle
 * (all wrong answers first) AUC_oracle = m² / (2n²), both exactly, so
 *
 *   PRR = (AUC_random - AUC_score) / (AUC_random - AUC_oracle),
 *
 * 1 for a perfect score, 0 for one no better than chance, negative for worse.
 */
export function predictionRejectionRatio(scores: readonly number[], wrong: readonly boolean[]): number {
  const groups = tieGroups(scores, wrong, 'descending');
  const n = wrong.length;
  const m = countWrong(wrong);
  if (m === 0 || m === n) return NaN;
  // Within a tie group errors leave at a constant expected rate, so the curve is linear there and the trapezoid over the group is exact.
  let kept = m;
  let area = 0;
  for (const g of groups) {
    const size = g.wrong + g.right;
    area += (size / n) * ((kept + (kept - g.wrong)) / (2 * n));
    kept -= g.wrong;
  }
  const random = m / (2 * n);
  const oracle = (m * m) / (2 * n * n);
  return (random - area) / (random - oracle);
}

/**
 * Area under the risk-coverage curve: sort by confidence descending (score ascending), keep the
 * k most confident answers, risk(k) = wrong among them / k; AURC = 1/n Σ_{k=1..n} risk(k), each
 * risk in expectation over the orders of tied scores. Lower is better; it also grows with the
 * error rate itself, unlike AUROC.
 */
export function aurc(scores: readonly number[], wrong: readonly boolean[]): number {
  const groups = tieGroups(scores, wrong, 'ascending');
  const n = wrong.length;
  if (n === 0) return NaN;
  let covered = 0;
  let wrongBefore = 0;
  let sum = 0;
  for (const g of groups) {
    const size = g.wrong + g.right;
    // The first j of a tied group hold j·wrong/size wrong answers in expectation.
    for (let j = 1; j <= size; j++) sum += (wrongBefore + (j * g.wrong) / size) / (covered + j);
    covered += size;
    wrongBefore += g.wrong;
  }
  return sum / n;
}

interface TieGroup {
  readonly wrong: number;
  readonly right: number;
}

/** Counts of wrong and right answers per distinct score, in score order. */
function tieGroups(scores: readonly number[], wrong: readonly boolean[], order: 'ascending' | 'descending'): TieGroup[] {
  if (scores.length !== wrong.length) throw new RangeError(`${scores.length} scores for ${wrong.length} answers`);
  for (const [i, s] of scores.entries()) if (Number.isNaN(s)) throw new RangeError(`score ${i} is NaN`);
  const sign = order === 'ascending' ? 1 : -1;
  const idx = scores.map((_, i) => i).sort((a, b) => sign * (scores[a] - scores[b]) || 0);
  const groups: { wrong: number; right: number }[] = [];
  for (let p = 0; p < idx.length; p++) {
    if (p === 0 || scores[idx[p]] !== scores[idx[p - 1]]) groups.push({ wrong: 0, right: 0 });
    const g = groups[groups.length - 1];
    if (wrong[idx[p]]) g.wrong++;
    else g.right++;
  }
  return groups;
}

function countWrong(wrong: readonly boolean[]): number {
  let m = 0;
  for (const w of wrong) if (w) m++;
  return m;
}
