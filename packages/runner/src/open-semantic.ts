import type { EntailmentPair, EntailmentScores, Judge, Logger } from '@bayes-peft/core';
import { clusterByMeaning, type SemanticClusters } from '@bayes-peft/core';
import type { GeneratedQuestion } from './open-generation';
import type { Progress } from './progress';

/** How a run clusters its answers by meaning: the comparer (a judge with `entailment`) and the spec's `semantic:` settings. */
export interface SemanticSettings {
  readonly comparer: Judge & Required<Pick<Judge, 'entailment'>>;
  readonly strict: boolean;
  /** Pairs per `entailment` call. */
  readonly batchSize: number;
}

/** Thrown inside the relation when a pair is not known yet (never escapes clusterQuestions). */
const MISSING = Symbol('missing pair');

/**
 * Clusters every question's answers (core's greedy clusterByMeaning), asking the comparer only
 * for the pairs the greedy walk reaches, batched across questions: all unfinished questions are
 * walked until each meets a pair not yet known; the missing pairs (both directions, since the
 * backward one is usually next) are asked in batches; repeat. Every pair carries its question (a
 * comparer may condition on it, nli with conditionOnQuestion), so pairs are keyed by question and
 * texts: a pair repeated within a question is asked once, and equal answers need no pair at all.
 */
export async function clusterQuestions(questions: readonly GeneratedQuestion[], settings: SemanticSettings, options: { progress?: Progress; log?: Logger } = {}): Promise<SemanticClusters[]> {
  const { comparer } = settings;
  const known = new Map<string, EntailmentScores>();
  const results: (SemanticClusters | undefined)[] = questions.map(() => undefined);
  const task = options.progress?.start(`semantic clusters (${comparer.name})`, questions.length, 'q');
  let done = 0;
  let asked = 0;
  try {
    for (;;) {
      const wanted = new Map<string, EntailmentPair>();
      for (const [qi, q] of questions.entries()) {
        if (results[qi]) continue;
        const texts = q.answers.map((a) => a.text);
        const pairOf = (p: number, h: number): EntailmentPair => ({ premise: texts[p], hypothesis: texts[h], question: q.question });
        const relation = (p: number, h: number): EntailmentScores => {
          const hit = known.get(pairKey(pairOf(p, h)));
          if (hit) return hit;
          for (const pair of [pairOf(p, h), pairOf(h, p)]) if (!known.has(pairKey(pair))) wanted.set(pairKey(pair), pair);
          throw MISSING;
        };
        try {
          results[qi] = clusterByMeaning(texts, relation, { strict: settings.strict });
          done++;
        } catch (e) {
          if (e !== MISSING) throw e;
        }
      }
      task?.update(done);
      if (wanted.size === 0) break;
      const pairs = [...wanted.values()];
      for (let i = 0; i < pairs.length; i += settings.batchSize) {
        const part = pairs.slice(i, i + settings.batchSize);
        const got = await comparer.entailment(part);
        checkScores(comparer.name, part, got);
        for (const [j, pair] of part.entries()) known.set(pairKey(pair), got[j]);
      }
      asked += pairs.length;
    }
  } finally {
    task?.stop();
  }
  options.log?.info(`  semantic clusters: ${asked} answer pairs compared by '${comparer.name}' (${settings.strict ? 'strict' : 'non-strict'})`);
  return results as SemanticClusters[];
}

function pairKey(pair: EntailmentPair): string {
  return JSON.stringify([pair.question, pair.premise, pair.hypothesis]);
}

/** A comparer that answers for other pairs, or with values that are not probabilities, would cluster silently wrong: an error naming it. */
function checkScores(name: string, pairs: readonly EntailmentPair[], got: readonly EntailmentScores[]): void {
  if (got.length !== pairs.length) throw new Error(`comparer '${name}' returned ${got.length} entailment scores for ${pairs.length} pairs`);
  for (const [i, s] of got.entries()) {
    const { entailment: e, contradiction: c } = s;
    if (!(e >= 0 && e <= 1 && c >= 0 && c <= 1 && e + c <= 1 + 1e-6)) {
      throw new Error(`comparer '${name}' gave entailment ${e} and contradiction ${c} (not probabilities of one distribution) for '${pairs[i].premise}' -> '${pairs[i].hypothesis}'`);
    }
  }
}
