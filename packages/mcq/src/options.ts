import type { SplitRole } from '@bayes-peft/core';
import { z } from 'zod';

/** Each role's default split name, with a note on the test one for the docs. */
export interface SplitDefaults {
  readonly train: string;
  readonly test: string;
  readonly anchor: string;
  /** Appended to the `splits.test` description, e.g. "(the reference's --testing-set val)". */
  readonly note?: string;
}

export interface McqOptionFieldsSpec {
  /** The hub dataset the rows come from by default (`allenai/openbookqa`). */
  readonly repo: string;
  /** Where the hub keeps a config's files, for the `source` description (`main/<split>-*.parquet`). */
  readonly layout?: string;
  readonly splits: SplitDefaults;
  /** Target labels without spaces, for the `addSpace` description (`['A', 'B']`, `['True', 'False']`). */
  readonly labels: readonly string[];
}

/** The reference's testing-set `val`: train on `train`, evaluate on `validation`. */
export const REFERENCE_SPLITS: SplitDefaults = { train: 'train', test: 'validation', anchor: 'train', note: "the reference's --testing-set val: validation" };

/**
 * The options every multiple-choice dataset shares, as a zod shape to spread into a plugin's
 * schema: where the rows are (`source`, `revision`), which split serves each role (`splits`),
 * subsets (`max*Examples`, `subsetMode`, `subsetSeed`) and target tokens (`addSpace`).
 */
export function mcqOptionFields(spec: McqOptionFieldsSpec) {
  const { splits } = spec;
  const first = spec.labels[0];
  const last = spec.labels[spec.labels.length - 1];
  const shown = spec.labels.length <= 2 ? spec.labels.map((l) => `'${l}'`).join('/') : `'${first}'..'${last}'`;
  const spaced = spec.labels.length <= 2 ? spec.labels.map((l) => `' ${l}'`).join('/') : `' ${first}'..' ${last}'`;
  return {
    source: z
      .string()
      .min(1)
      .optional()
      .describe(
        `where the rows are: a local folder (holding <split>.jsonl/.json/.parquet/.csv${spec.layout ? ` or ${spec.layout}` : ''}), a file or a path template with {split}, or a hub dataset id, all in the hub's row schema; relative paths resolve against the spec's folder; default: ${spec.repo}`,
      ),
    revision: z.string().min(1).optional().describe('hub revision (branch, tag or commit) of the dataset; default main'),
    splits: z
      .object({
        train: z.string().min(1).default(splits.train).describe('split used for training'),
        test: z
          .string()
          .min(1)
          .default(splits.test)
          .describe(`split used for evaluation${splits.note ? ` (${splits.note})` : ''}`),
        anchor: z.string().min(1).default(splits.anchor).describe('split the anchor subset (TFB) is drawn from'),
      })
      .strict()
      .prefault({})
      .describe('split name per role'),
    maxTrainExamples: z.number().int().positive().optional().describe('keep at most this many training examples (default: all)'),
    maxTestExamples: z.number().int().positive().optional().describe('keep at most this many evaluation examples (default: all)'),
    maxAnchorExamples: z.number().int().positive().optional().describe('anchor subset size (default: all of the anchor split)'),
    subsetMode: z
      .enum(['sample', 'first'])
      .default('sample')
      .describe("how max*Examples picks: 'sample' = seeded shuffle then the first N (the reference's shuffle(seed=42).select(range(N)), not the same permutation); 'first' = file order"),
    subsetSeed: z
      .number()
      .int()
      .nonnegative()
      .default(42)
      .describe('seed of the subset shuffle (the reference uses 42); one shuffle per split, so the anchor is a prefix of the train subset when both use the same split'),
    addSpace: z.boolean().default(false).describe(`target tokens ${spaced} instead of ${shown} (the reference's --add-space)`),
  };
}

/** What those shared options hold once parsed; every MCQ plugin's options extend it. */
export interface McqCommonOptions {
  readonly source?: string;
  readonly revision?: string;
  readonly splits: Readonly<Record<SplitRole, string>>;
  readonly maxTrainExamples?: number;
  readonly maxTestExamples?: number;
  readonly maxAnchorExamples?: number;
  readonly subsetMode: 'sample' | 'first';
  readonly subsetSeed: number;
  readonly addSpace: boolean;
}

/** The subset size a role asks for (undefined: all). */
export function maxExamplesFor(options: McqCommonOptions, role: SplitRole): number | undefined {
  return role === 'train' ? options.maxTrainExamples : role === 'test' ? options.maxTestExamples : options.maxAnchorExamples;
}
