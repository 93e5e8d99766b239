import type { EntailmentScores } from '../contracts/judge';
import type { SampledSequence } from './question-scores';

/**
 * Semantic uncertainty of open-ended QA (Kuhn et al. 2023; Farquhar et al. 2024): the S sampled
 * answers of a question are grouped by meaning with a comparer of two answers (an NLI model), and
 * the spread of the groups, not of the token strings, measures how unsure the model is. "Paris",
 * "paris" and "The answer is Paris." are one meaning; a model that says them is sure, even though
 * its sequence entropy is high.
 */

/** The class a comparer's probabilities stand for. */
export type NliLabel = 'contradiction' | 'neutral' | 'entailment';

/**
 * The argmax of (contradiction, neutral, entailment), neutral = 1 - entailment - contradiction
 * (0 for a comparer with two classes). A tie goes to the earlier class in that order, as numpy's
 * argmax over an NLI model's (contradiction, neutral, entailment) logits does in the semantic-
 * entropy code: entailment must beat both others strictly, so an undecided pair is never "same".
 */
export function nliLabel(scores: EntailmentScores): NliLabel {
  const { entailment: e, contradiction: c } = scores;
  if (!(e >= 0 && e <= 1) || !(c >= 0 && c <= 1) || e + c > 1 + 1e-6) {
    throw new RangeError(`entailment ${e} and contradiction ${c} are not probabilities of two classes of one distribution`);
  }
  // Clamped: e + c may exceed 1 by rounding.
  const n = Math.max(0, 1 - e - c);
  if (c >= n && c >= e) return 'contradiction';
  if (n >= e) return 'neutral';
  return 'entailment';
}

/**
 * Whether two answers mean the same, from the comparer's verdict in both directions (forward:
 * the first as premise). Strict: both directions are entailment. Non-strict: neither direction
 * is contradiction (a neutral direction is accepted, so paraphrases the comparer is unsure of
 * still merge).
 */
export function semanticallyEquivalent(forward: EntailmentScores, backward: EntailmentScores, strict: boolean): boolean {
  if (strict) return nliLabel(forward) === 'entailment' && nliLabel(backward) === 'entailment';
  return nliLabel(forward) !== 'contradiction' && nliLabel(backward) !== 'contradiction';
}

/** The comparer's probabilities that answer `premise` entails answer `hypothesis` (indices into the question's answers). */
export type AnswerRelation = (premise: number, hypothesis: number) => EntailmentScores;

export interface SemanticClusters {
  /** Each answer's cluster, numbered 0, 1, ... in the order clusters were opened. */
  readonly ids: readonly number[];
  /** Each cluster's representative: the answer that opened it (the first with that id). */
  readonly representatives: readonly number[];
}

/**
 * Greedy clustering by bidirectional entailment: answers are taken in order, each joins the first
 * cluster whose representative it is equivalent to (`semanticallyEquivalent`, the representative
 * as the forward premise), else opens a cluster of its own. An answer whose text equals an
 * earlier one's joins that answer's cluster without asking the relation (equal strings mean the
 * same, whatever a weak comparer says). Strict mode asks for the backward direction only when the
 * forward one is entailment; non-strict only when it is not contradiction.
 */
export function clusterByMeaning(texts: readonly string[], relation: AnswerRelation, options: { strict: boolean }): SemanticClusters {
  const ids: number[] = [];
  const representatives: number[] = [];
  const byText = new Map<string, number>();
  for (let i = 0; i < texts.length; i++) {
    const same = byText.get(texts[i]);
    if (same !== undefined) {
      ids.push(same);
      continue;
    }
    let id = representatives.findIndex((rep) => equivalentByRelation(relation, rep, i, options.strict));
    if (id < 0) {
      id = representatives.length;
      representatives.push(i);
    }
    ids.push(id);
    byText.set(texts[i], id);
  }
  return { ids, representatives };
}

function equivalentByRelation(relation: AnswerRelation, rep: number, i: number, strict: boolean): boolean {
  const forward = nliLabel(relation(rep, i));
  if (strict ? forward !== 'entailment' : forward === 'contradiction') return false;
  const backward = nliLabel(relation(i, rep));
  return strict ? backward === 'entailment' : backward !== 'contradiction';
}

/**
 * Likelihood-weighted semantic entropy (Farquhar et al. 2024): each answer weighs its length-
 * normalised likelihood exp(log p(y_s) / |y_s|), renormalised over the drawn samples (a repeated
 * answer counts once per draw); a cluster's mass is the sum of its members' weights;
 * SE = -Σ_c P_c ln P_c. Computed in log space, so answers whose likelihoods underflow still weigh
 * what they should relative to each other.
 */
export function semanticEntropy(ids: readonly number[], samples: readonly SampledSequence[]): number {
  if (ids.length !== samples.length) throw new RangeError(`${ids.length} cluster ids for ${samples.length} samples`);
  checkIds(ids);
  const logWeights = samples.map((s, i) => {
    if (!(s.logLikelihood <= 0) || !Number.isInteger(s.length) || s.length < 1) {
      throw new RangeError(`sample ${i}: log-likelihood ${s.logLikelihood} over ${s.length} tokens is not a sequence likelihood`);
    }
    return s.logLikelihood / s.length;
  });
  const logTotal = logSumExp(logWeights);
  let h = 0;
  for (const members of clusterMembers(ids).values()) {
    const logMass = logSumExp(members.map((i) => logWeights[i])) - logTotal;
    h -= Math.exp(logMass) * logMass;
  }
  return h + 0; // one cluster: -(1 · 0) is -0
}

/** Discrete semantic entropy: -Σ_c (n_c / S) ln(n_c / S), cluster frequencies only (no likelihoods needed). */
export function discreteSemanticEntropy(ids: readonly number[]): number {
  checkIds(ids);
  let h = 0;
  for (const members of clusterMembers(ids).values()) {
    const p = members.length / ids.length;
    h -= p * Math.log(p);
  }
  return h + 0;
}

/** The number of semantic sets (clusters) among the answers. */
export function semanticSetCount(ids: readonly number[]): number {
  checkIds(ids);
  return new Set(ids).size;
}

/**
 * The cluster with the most answers and its share of them: the question's semantic confidence
 * (the model's answer is the largest cluster's meaning). A tie goes to the cluster opened first.
 */
export function largestCluster(ids: readonly number[]): { readonly id: number; readonly share: number } {
  checkIds(ids);
  let best = -1;
  let size = 0;
  // Map iteration follows first appearance, so the first cluster of the largest size wins a tie.
  for (const [id, members] of clusterMembers(ids)) {
    if (members.length > size) {
      best = id;
      size = members.length;
    }
  }
  return { id: best, share: size / ids.length };
}

/**
 * The alternative correctness: whether the largest cluster's representative (the first answer in
 * it) is judged right, i.e. the verdict on the answer the samples agree on most.
 */
export function largestClusterCorrect(clusters: SemanticClusters, correct: readonly boolean[]): boolean {
  if (clusters.ids.length !== correct.length) throw new RangeError(`${clusters.ids.length} cluster ids for ${correct.length} verdicts`);
  const { id } = largestCluster(clusters.ids);
  return correct[clusters.representatives[id]];
}

function clusterMembers(ids: readonly number[]): Map<number, number[]> {
  const members = new Map<number, number[]>();
  for (const [i, id] of ids.entries()) {
    const list = members.get(id);
    if (list) list.push(i);
    else members.set(id, [i]);
  }
  return members;
}

function checkIds(ids: readonly number[]): void {
  if (ids.length === 0) throw new RangeError('a question needs at least one sampled answer');
  for (const [i, id] of ids.entries()) if (!Number.isInteger(id) || id < 0) throw new RangeError(`answer ${i}: cluster id ${id} is not a non-negative integer`);
}

function logSumExp(values: readonly number[]): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}
