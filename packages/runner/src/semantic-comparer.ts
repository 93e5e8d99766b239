import type { Judge, Logger } from '@bayes-peft/core';
import { UserError } from '@bayes-peft/core';
import type { SemanticSettings } from './open-semantic';
import type { SemanticSpec } from './spec/schema';

export interface ComparerChoice {
  readonly spec: SemanticSpec;
  /**
   * Whether the author asked for semantic scores (wrote `semantic:`): then a comparer that cannot
   * compare is an error. Left implicit, the default comparer (the scorer) is used when it can,
   * and semantic scores are skipped, said once, when it cannot (string match).
   */
  readonly explicit: boolean;
  /** The run's scorer. */
  readonly scorer: Judge;
  /** The judge `semantic.comparer` names, when it names a plugin. */
  readonly comparer?: () => Judge;
  readonly log: Logger;
}

/** Which judge clusters a run's answers by meaning, and how; undefined for none. */
export function chooseComparer(choice: ComparerChoice): SemanticSettings | undefined {
  const { spec, log } = choice;
  if (spec.comparer === 'none') return undefined;
  const settings = (comparer: SemanticSettings['comparer']): SemanticSettings => ({
    comparer,
    strict: spec.strict,
    batchSize: spec.batchSize,
  });
  if (spec.comparer === 'scorer') {
    const { scorer } = choice;
    if (hasEntailment(scorer)) return settings(scorer);
    if (choice.explicit) {
      throw new UserError(
        `semantic.comparer: the scorer '${scorer.name}' cannot compare two answers (it has no entailment); name a comparer (semantic: { comparer: nli }) or set semantic.comparer: none`,
      );
    }
    log.info(`  semantic uncertainty: skipped, the scorer '${scorer.name}' cannot compare two answers (semantic: { comparer: nli } adds it)`);
    return undefined;
  }
  if (!choice.comparer) throw new Error(`semantic.comparer '${spec.comparer.plugin}' was not set up`);
  const comparer = choice.comparer();
  if (!hasEntailment(comparer)) throw new UserError(`semantic.comparer: judge plugin '${spec.comparer.plugin}' (${comparer.name}) cannot compare two answers (it has no entailment)`);
  return settings(comparer);
}

function hasEntailment(judge: Judge): judge is SemanticSettings['comparer'] {
  return typeof judge.entailment === 'function';
}
