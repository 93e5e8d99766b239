import type { JudgeVerdict } from '@bayes-peft/core';

/** Both directions' entailment probabilities of a candidate against one reference. */
export interface ReferenceScores {
  readonly reference: string;
  /** P(entailment | premise = candidate, hypothesis = reference). */
  readonly forward: number;
  /** P(entailment | premise = reference, hypothesis = candidate). */
  readonly backward: number;
}

/** How the detail names the label read: `label 2 ENTAILMENT`. */
export interface LabelNote {
  readonly index: number;
  readonly name: string;
}

/**
 * The reference's mutual entailment (REFERENCE-SPEC §5.3): a candidate is right against a
 * reference when both directions reach `threshold`; its confidence is their mean (the
 * reference's `avg_prob`). With several references (aliases) the best one counts: one that passes
 * beats one that does not, then the higher mean; its verdict and confidence are the item's.
 */
export function bidirectionalVerdict(scores: readonly ReferenceScores[], threshold: number, label: LabelNote): JudgeVerdict {
  let best: { s: ReferenceScores; passes: boolean; mean: number } | null = null;
  for (const s of scores) {
    const passes = s.forward >= threshold && s.backward >= threshold;
    const mean = (s.forward + s.backward) / 2;
    if (!best || (passes && !best.passes) || (passes === best.passes && mean > best.mean)) best = { s, passes, mean };
  }
  if (!best) return { correct: false, confidence: 0, detail: 'no reference to compare with' };
  const { s, passes, mean } = best;
  const of = scores.length > 1 ? `, best of ${scores.length} references` : '';
  return {
    correct: passes,
    confidence: mean,
    detail: `forward ${s.forward.toFixed(4)}, backward ${s.backward.toFixed(4)} with '${s.reference}' (entailment = label ${label.index} ${label.name}, threshold ${threshold}${of})`,
  };
}
