import { Rng, UserError, type DatasetLoadContext, type SplitRole } from '@bayes-peft/core';
import { z } from 'zod';
import { selectSubset, takeFirst, type SubsetMode } from './subset';

// The option fields every dataset plugin shares, as zod shapes to spread into a plugin's schema,
// so `source`, `splits`, the subset options and `chatTemplate` read, default and document the
// same in every dataset (multiple-choice and open-ended alike).

/** Each role's default split name, with notes for the docs. */
export interface SplitDefaults {
  readonly train: string;
  readonly test: string;
  readonly anchor: string;
  /** Appended to the `splits.test` description, e.g. "the reference's --testing-set val: validation". */
  readonly note?: string;
  /** Appended to the `splits` description, e.g. "the hub's 'test' split has no answers and is refused". */
  readonly splitsNote?: string;
}

/** The reference's testing-set `val`: train on `train`, evaluate on `validation`. */
export const REFERENCE_SPLITS: SplitDefaults = { train: 'train', test: 'validation', anchor: 'train', note: "the reference's --testing-set val: validation" };

/** `source` and `revision`: local files or a hub dataset (`repo` by default; `layout` names its files inside a folder). */
export function rowSourceFields(spec: { readonly repo: string; readonly layout?: string }) {
  return {
    source: z
      .string()
      .min(1)
      .optional()
      .describe(
        `where the rows are: a local folder (holding <split>.jsonl/.json/.parquet/.csv${spec.layout ? ` or ${spec.layout}` : ''}), a file or a path template with {split}, or a hub dataset id, all in the hub's row schema; relative paths resolve against the spec's folder; default: ${spec.repo}`,
      ),
    revision: z.string().min(1).optional().describe('hub revision (branch, tag or commit) of the dataset; default main'),
  };
}

/** `splits`: the split that serves each role. */
export function splitRoleFields(splits: SplitDefaults) {
  return {
    splits: z
      .object({
        train: z.string().min(1).default(splits.train).describe('split (or local file name without extension) used for training'),
        test: z
          .string()
          .min(1)
          .default(splits.test)
          .describe(`split used for evaluation${splits.note ? ` (${splits.note})` : ''}`),
        anchor: z.string().min(1).default(splits.anchor).describe('split the anchor subset (TFB) is drawn from'),
      })
      .strict()
      .prefault({})
      .describe(`split name per role${splits.splitsNote ? `; ${splits.splitsNote}` : ''}`),
  };
}

/**
 * `max*Examples`, `subsetMode` and `subsetSeed`. `mode` is the default and what the reference
 * does for this kind of dataset (`sample`: its shuffle(seed=42).select(range(N)) for
 * multiple-choice sets; `first`: its open-ended sets' select(range(N))).
 */
export function subsetFields(spec: { readonly mode: SubsetMode; readonly anchorDefault?: string; readonly unit?: string }) {
  const unit = spec.unit ?? 'split';
  const reference = spec.mode === 'sample' ? "the reference's shuffle(seed=42).select(range(N)), not the same permutation" : "the reference's oedataset: select(range(N))";
  return {
    maxTrainExamples: z.number().int().positive().optional().describe('keep at most this many training examples (default: all)'),
    maxTestExamples: z.number().int().positive().optional().describe('keep at most this many evaluation examples (default: all)'),
    maxAnchorExamples: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(`anchor subset size (default: ${spec.anchorDefault ?? 'all of the anchor split'})`),
    skipTestExamples: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe(
        "skip this many examples at the start of the test split's order (file order, or the 'sample' shuffle) before keeping maxTestExamples (default 0): a test subset of the split training reads, disjoint from its first N training examples",
      ),
    subsetMode: z
      .enum(['first', 'sample'])
      .default(spec.mode)
      .describe(`how max*Examples picks: 'first' = file order; 'sample' = seeded shuffle, then the first N (default '${spec.mode}': ${reference})`),
    subsetSeed: z
      .number()
      .int()
      .nonnegative()
      .default(42)
      .describe(`seed of the 'sample' shuffle (the reference uses 42); one shuffle per ${unit}, so the anchor is a prefix of the train subset when both read the same ${unit}`),
  };
}

/** `chatTemplate`: whether prompts go through the model's chat template. */
export const chatTemplateField = {
  chatTemplate: z
    .enum(['auto', 'always', 'never'])
    .default('auto')
    .describe("'auto': the model's chat template when its tokenizer has one (the reference), else the plain prompt; 'always': fail without one; 'never': the plain prompt"),
};

/** What the subset fields hold once parsed. */
export interface SubsetChoice {
  readonly maxTrainExamples?: number;
  readonly maxTestExamples?: number;
  readonly maxAnchorExamples?: number;
  /** Test examples skipped at the start of the subset's order (default 0). */
  readonly skipTestExamples?: number;
  readonly subsetMode: SubsetMode;
  readonly subsetSeed: number;
}

/** The subset size a role asks for (undefined: all). */
export function maxExamplesFor(options: SubsetChoice, role: SplitRole): number | undefined {
  return role === 'train' ? options.maxTrainExamples : role === 'test' ? options.maxTestExamples : options.maxAnchorExamples;
}

/** The role's subset of `examples`: `sample` shuffles with the stream `key` of `subsetSeed` (one per dataset and split). */
export function subsetForRole<T>(examples: readonly T[], options: SubsetChoice, role: SplitRole, key: string): T[] {
  const rng = new Rng(options.subsetSeed).child(key);
  const max = maxExamplesFor(options, role);
  const skip = role === 'test' ? (options.skipTestExamples ?? 0) : 0;
  if (skip === 0) return selectSubset(examples, { max, mode: options.subsetMode, rng });
  // The same order the train role reads (one shuffle per split), so skipping its first N keeps the two apart.
  const order = options.subsetMode === 'sample' ? rng.shuffle(examples) : examples.slice();
  return takeFirst(order.slice(skip), max);
}

/** The chat template to format prompts with under `choice`, or undefined for plain prompts; 'always' without one is an error naming the dataset. */
export function chatTemplateFor(choice: 'auto' | 'always' | 'never', loadCtx: DatasetLoadContext | undefined, dataset: string): DatasetLoadContext['applyChatTemplate'] {
  const chat = choice === 'never' ? undefined : loadCtx?.applyChatTemplate;
  if (choice === 'always' && !chat) {
    throw new UserError(`${dataset}: chatTemplate is 'always' but the model's tokenizer has no chat template (tokenizer_config.json chat_template); use 'auto' or 'never'`);
  }
  return chat;
}
