import type { Judge, JudgeItem, Metrics, SampledSequence, SemanticClusters, TieRule } from '@bayes-peft/core';
import {
  correctFraction,
  generativeMetrics,
  incorrectFraction,
  lengthNormalisedSequenceEntropy,
  majorityCorrectness,
  maximumSequenceProbabilityScore,
  rankingMetrics,
  sequenceEntropy,
} from '@bayes-peft/core';
import type { GeneratedQuestion } from './open-generation';
import type { Progress } from './progress';
import { SEMANTIC_SCORES, semanticMetrics, semanticRowFields, type SemanticScore } from './semantic-scores';

/** One answer with the judge's verdict: a sample of a predictions.jsonl row. */
export interface ScoredAnswer {
  readonly text: string;
  readonly nll: number;
  readonly nll_per_token: number;
  readonly tokens: number;
  readonly correct: boolean;
  readonly confidence: number;
  readonly detail?: string;
}

/**
 * The per-question uncertainty scores (higher = less sure), by the name results.json and
 * predictions.jsonl use. The sequence scores read only the model's likelihoods of its own answers;
 * `incorrect_fraction` reads the judge.
 */
export const UNCERTAINTY_SCORES = ['seq_entropy', 'seq_entropy_norm', 'max_seq_prob', 'incorrect_fraction'] as const;
export type UncertaintyScore = (typeof UNCERTAINTY_SCORES)[number];

/** The score the summary table's AUROC and PRR columns rank by. */
export const HEADLINE_SCORE: UncertaintyScore = 'seq_entropy_norm';

/** A predictions.jsonl row of an open-ended run: the question, its judged answers and its aggregates. */
export interface ScoredQuestion {
  readonly id: string;
  readonly question: string;
  readonly references: readonly string[];
  readonly samples: readonly ScoredAnswer[];
  /** Share of the samples judged right: the question's confidence. */
  readonly correct_fraction: number;
  /** The majority verdict under the run's tie rule: 1, 0 or 0.5 for a tie under 'half'. */
  readonly correct: number;
  /** The sequence and judge scores always; the semantic ones when the run had a comparer. */
  readonly scores: Readonly<Record<UncertaintyScore, number>> & Partial<Readonly<Record<SemanticScore, number>>>;
  /** With a comparer: each sample's cluster by meaning (semantic-scores.ts). */
  readonly semantic_ids?: readonly number[];
  /** With a comparer: the verdict on the largest cluster's representative. */
  readonly semantic_correct?: boolean;
}

export interface ScoreOptions {
  readonly tieRule: TieRule;
  /** Answers per `judge` call. */
  readonly batchSize: number;
  /** Each question's answers clustered by meaning (open-semantic.ts), in the questions' order; none without a comparer. */
  readonly clusters?: readonly SemanticClusters[];
  readonly progress?: Progress;
}

/**
 * Asks the judge about every answer (a batch of items per call, across questions) and assembles
 * the predictions.jsonl rows. A judge that returns the wrong number of verdicts is an error naming
 * it: a silent misalignment would score answers against other questions.
 */
export async function scoreQuestions(judge: Judge, questions: readonly GeneratedQuestion[], options: ScoreOptions): Promise<ScoredQuestion[]> {
  const items: JudgeItem[] = questions.flatMap((q) =>
    q.answers.map((a) => ({ id: q.id, question: q.question, references: q.references, candidate: a.text, ...(q.context === undefined ? {} : { context: q.context }) })),
  );
  const verdicts: { correct: boolean; confidence: number; detail?: string }[] = [];
  const task = options.progress?.start(`score (${judge.name})`, items.length, 'ans');
  try {
    for (let i = 0; i < items.length; i += options.batchSize) {
      const part = items.slice(i, i + options.batchSize);
      const got = await judge.judge(part);
      if (got.length !== part.length) throw new Error(`scorer '${judge.name}' returned ${got.length} verdicts for ${part.length} answers`);
      for (const [j, v] of got.entries()) {
        if (!(v.confidence >= 0 && v.confidence <= 1)) {
          throw new Error(`scorer '${judge.name}' gave confidence ${v.confidence} (not in [0, 1]) for question ${part[j].id}`);
        }
      }
      verdicts.push(...got);
      task?.update(verdicts.length);
    }
  } finally {
    task?.stop();
  }
  if (options.clusters && options.clusters.length !== questions.length) throw new Error(`${options.clusters.length} semantic clusterings for ${questions.length} questions`);
  let at = 0;
  return questions.map((q, qi) => {
    const samples = q.answers.map((a): ScoredAnswer => {
      const v = verdicts[at++];
      return {
        text: a.text,
        nll: a.nll,
        nll_per_token: a.tokens > 0 ? a.nll / a.tokens : 0,
        tokens: a.tokens,
        correct: v.correct,
        confidence: v.confidence,
        ...(v.detail === undefined ? {} : { detail: v.detail }),
      };
    });
    return questionRow(q, samples, options.tieRule, options.clusters?.[qi]);
  });
}

function questionRow(q: GeneratedQuestion, samples: readonly ScoredAnswer[], tieRule: TieRule, clusters: SemanticClusters | undefined): ScoredQuestion {
  const correct = samples.map((s) => s.correct);
  const sequences: SampledSequence[] = samples.map((s) => ({ logLikelihood: -s.nll, length: Math.max(1, s.tokens) }));
  const semantic = clusters ? semanticRowFields(clusters, samples) : undefined;
  return {
    id: q.id,
    question: q.question,
    references: q.references,
    samples,
    correct_fraction: correctFraction(correct),
    correct: majorityCorrectness(correct, tieRule),
    scores: {
      seq_entropy: sequenceEntropy(sequences),
      seq_entropy_norm: lengthNormalisedSequenceEntropy(sequences),
      max_seq_prob: maximumSequenceProbabilityScore(sequences),
      incorrect_fraction: incorrectFraction(correct),
      ...semantic?.scores,
    },
    ...(semantic ? { semantic_ids: semantic.semantic_ids, semantic_correct: semantic.semantic_correct } : {}),
  };
}

/**
 * The run's open-ended metrics from its predictions.jsonl rows alone (so they recompute from the
 * file): accuracy, ECE, Brier, mean sample NLL and the entropy of the correctness fraction
 * (core's generativeMetrics), and for each uncertainty score how well it ranks wrong answers above
 * right ones: `auroc_<score>`, `auprc_<score>`, `prr_<score>`, `aurc_<score>`. A question is
 * wrong for the ranking when its majority verdict is not right (a tie counts as wrong: ranking
 * needs a yes or no). `auroc` and `prr` without a suffix are the headline score's. Rows with
 * semantic clusters add the semantic scores' rankings (against the same verdicts) and
 * semanticMetrics' means and largest-cluster metrics.
 */
export function openMetrics(rows: readonly ScoredQuestion[], options: { tieRule: TieRule; bins: number }): Metrics {
  const base = generativeMetrics(
    rows.map((r) => ({ correct: r.samples.map((s) => s.correct), nll: r.samples.map((s) => s.nll) })),
    options,
  );
  const metrics: Metrics = { ...base };
  const wrong = rows.map((r) => !(r.correct === 1));
  const semantic = semanticMetrics(rows, options.bins);
  const ranked: readonly (UncertaintyScore | SemanticScore)[] = Object.keys(semantic).length ? [...UNCERTAINTY_SCORES, ...SEMANTIC_SCORES] : UNCERTAINTY_SCORES;
  for (const score of ranked) {
    const ranking = rankingMetrics(
      rows.map((r) => r.scores[score]!),
      wrong,
    );
    for (const [name, value] of Object.entries(ranking)) metrics[`${name}_${score}`] = value;
  }
  metrics.auroc = metrics[`auroc_${HEADLINE_SCORE}`];
  metrics.prr = metrics[`prr_${HEADLINE_SCORE}`];
  return { ...metrics, ...semantic };
}
