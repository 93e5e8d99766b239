import type { Metrics, SampledSequence, SemanticClusters } from '@bayes-peft/core';
import {
  binaryBrierScore,
  binaryCalibrationError,
  discreteSemanticEntropy,
  largestCluster,
  largestClusterCorrect,
  semanticEntropy,
  semanticSetCount,
} from '@bayes-peft/core';
import type { ScoredAnswer, ScoredQuestion } from './open-scoring';

/**
 * The per-question scores of semantic uncertainty (higher = less sure), by the name results.json
 * and predictions.jsonl use; present when the run had a comparer (docs/methods.md, 'Semantic
 * uncertainty').
 */
export const SEMANTIC_SCORES = ['semantic_entropy', 'semantic_entropy_discrete', 'semantic_sets', 'semantic_disagreement'] as const;
export type SemanticScore = (typeof SEMANTIC_SCORES)[number];

/** What a predictions.jsonl row gets from its question's clusters. */
export interface SemanticRowFields {
  /** Each sample's cluster, in sample order, numbered in the order clusters opened (cluster k's representative is its first sample). */
  readonly semantic_ids: readonly number[];
  /** The verdict on the largest cluster's representative: the alternative correctness. */
  readonly semantic_correct: boolean;
  readonly scores: Readonly<Record<SemanticScore, number>>;
}

export function semanticRowFields(clusters: SemanticClusters, samples: readonly ScoredAnswer[]): SemanticRowFields {
  // The likelihood of each answer is under the weight sample that produced it (the answer's own nll).
  const sequences: SampledSequence[] = samples.map((s) => ({ logLikelihood: -s.nll, length: Math.max(1, s.tokens) }));
  const { ids } = clusters;
  return {
    semantic_ids: ids,
    semantic_correct: largestClusterCorrect(
      clusters,
      samples.map((s) => s.correct),
    ),
    scores: {
      semantic_entropy: semanticEntropy(ids, sequences),
      semantic_entropy_discrete: discreteSemanticEntropy(ids),
      semantic_sets: semanticSetCount(ids),
      semantic_disagreement: 1 - largestCluster(ids).share,
    },
  };
}

/**
 * The run's semantic metrics from predictions.jsonl rows that carry cluster ids: the means of
 * semantic entropy (both) and of the number of sets, and the largest cluster read as the model's
 * answer: `semantic_acc` (its representative judged right), `semantic_ece` and `semantic_brier`
 * of its share as the confidence against that verdict. {} when the rows have no clusters.
 */
export function semanticMetrics(rows: readonly ScoredQuestion[], bins: number): Metrics {
  const withIds = rows.filter((r) => r.semantic_ids !== undefined);
  if (withIds.length === 0) return {};
  if (withIds.length !== rows.length) throw new Error(`${rows.length - withIds.length} of ${rows.length} questions have no semantic clusters`);
  const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const confidence = rows.map((r) => largestCluster(r.semantic_ids!).share);
  const outcome = rows.map((r) => (r.semantic_correct ? 1 : 0));
  return {
    semantic_entropy: mean(rows.map((r) => r.scores.semantic_entropy!)),
    semantic_entropy_discrete: mean(rows.map((r) => r.scores.semantic_entropy_discrete!)),
    semantic_sets: mean(rows.map((r) => r.scores.semantic_sets!)),
    semantic_acc: mean(outcome),
    semantic_ece: binaryCalibrationError(confidence, outcome, bins),
    semantic_brier: binaryBrierScore(confidence, outcome),
  };
}
