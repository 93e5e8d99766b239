import type { SplitRole } from '@bayes-peft/core';
import { rowSourceFields, splitRoleFields, subsetFields, type SplitDefaults, type SubsetChoice } from '@bayes-peft/data';
import { z } from 'zod';

// The split defaults and the subset helper, for MCQ plugins that import them from here.
export { REFERENCE_SPLITS, maxExamplesFor, type SplitDefaults } from '@bayes-peft/data';

export interface McqOptionFieldsSpec {
  /** The hub dataset the rows come from by default (`allenai/openbookqa`). */
  readonly repo: string;
  /** Where the hub keeps a config's files, for the `source` description (`main/<split>-*.parquet`). */
  readonly layout?: string;
  readonly splits: SplitDefaults;
  /** Target labels without spaces, for the `addSpace` description (`['A', 'B']`, `['True', 'False']`). */
  readonly labels: readonly string[];
}

/**
 * The options every multiple-choice dataset shares, as a zod shape to spread into a plugin's
 * schema: @bayes-peft/data's row source, split roles and subsets (sampled by default, as the
 * reference does) and the target tokens' `addSpace`.
 */
export function mcqOptionFields(spec: McqOptionFieldsSpec) {
  const first = spec.labels[0];
  const last = spec.labels[spec.labels.length - 1];
  const shown = spec.labels.length <= 2 ? spec.labels.map((l) => `'${l}'`).join('/') : `'${first}'..'${last}'`;
  const spaced = spec.labels.length <= 2 ? spec.labels.map((l) => `' ${l}'`).join('/') : `' ${first}'..' ${last}'`;
  return {
    ...rowSourceFields(spec),
    ...splitRoleFields(spec.splits),
    ...subsetFields({ mode: 'sample' }),
    addSpace: z.boolean().default(false).describe(`target tokens ${spaced} instead of ${shown} (the reference's --add-space)`),
  };
}

/** What those shared options hold once parsed; every MCQ plugin's options extend it. */
export interface McqCommonOptions extends SubsetChoice {
  readonly source?: string;
  readonly revision?: string;
  readonly splits: Readonly<Record<SplitRole, string>>;
  readonly addSpace: boolean;
}
