import type { Judge, JudgeItem, JudgeVerdict } from '@bayes-peft/core';
import { containmentMatch, tokenF1 } from './match';
import { NORMALIZERS } from './normalize';
import { F1_THRESHOLD_DEFAULT, type StringMatchOptions } from './options';

/**
 * One item's verdict: the candidate and every reference normalised the same way, right when any
 * reference matches. String matching has no probability, so confidence is 1 or 0 (the Judge
 * contract's rule for such scorers).
 */
export function stringMatchVerdict(item: JudgeItem, options: StringMatchOptions): JudgeVerdict {
  const normalize = NORMALIZERS[options.normalize];
  const candidate = normalize(item.candidate);
  const references = item.references.map(normalize);
  if (options.mode === 'f1') {
    const threshold = options.f1Threshold ?? F1_THRESHOLD_DEFAULT;
    let best = 0;
    let bestRef: string | undefined;
    for (const ref of references) {
      const f1 = tokenF1(ref, candidate);
      if (f1 > best) [best, bestRef] = [f1, ref];
    }
    const correct = best >= threshold;
    return verdict(correct, bestRef === undefined ? `F1 0 for '${candidate}'` : `F1 ${best.toFixed(3)} with '${bestRef}' (threshold ${threshold})`);
  }
  for (const ref of references) {
    // An empty reference is equal to an empty candidate, but it names no answer.
    const how = options.mode === 'exact' ? (ref !== '' && ref === candidate ? 'equal' : null) : containmentMatch(ref, candidate);
    if (how) return verdict(true, `'${candidate}' matched '${ref}' (${how})`);
  }
  return verdict(false, `'${candidate}' matched none of ${references.length} reference${references.length === 1 ? '' : 's'}`);
}

/** The run's string-match judge: each item scored on its own, in order. */
export function createStringMatchJudge(options: StringMatchOptions): Judge {
  return {
    name: 'string-match',
    judge: async (items) => items.map((item) => stringMatchVerdict(item, options)),
  };
}

function verdict(correct: boolean, detail: string): JudgeVerdict {
  return { correct, confidence: correct ? 1 : 0, detail };
}
