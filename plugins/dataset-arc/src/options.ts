import type { InjectionToken } from 'tsyringe';
import { z } from 'zod';

/** The hub dataset the reference loads (`load_dataset("ai2_arc", subset)`). */
export const ARC_HUB_REPO = 'allenai/ai2_arc';

export const ArcOptions = z
  .object({
    subset: z.enum(['ARC-Challenge', 'ARC-Easy']).default('ARC-Challenge').describe('ARC subset: the hub config name of allenai/ai2_arc'),
    source: z
      .string()
      .min(1)
      .optional()
      .describe(
        `where the rows are: a local folder (holding <split>.jsonl/.json/.parquet/.csv or <subset>/<split>-*.parquet), a file or a template with {split}, or a hub dataset id; default: ${ARC_HUB_REPO}`,
      ),
    revision: z.string().min(1).optional().describe('hub revision (branch, tag or commit) of the dataset; default main'),
    splits: z
      .object({
        train: z.string().min(1).default('train').describe('split used for training'),
        test: z.string().min(1).default('validation').describe("split used for evaluation (the reference's --testing-set val: validation)"),
        anchor: z.string().min(1).default('train').describe('split the anchor subset (TFB) is drawn from'),
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
    subsetSeed: z.number().int().nonnegative().default(42).describe('seed of the subset shuffle (the reference uses 42); one shuffle per split, so the anchor is a prefix of the train subset when both use the same split'),
    addSpace: z.boolean().default(false).describe("target tokens ' A'..' E' instead of 'A'..'E' (the reference's --add-space)"),
    compat: z
      .object({
        swapChoiceFormat: z
          .boolean()
          .default(true)
          .describe("render each choice as '{text}) {label}' like the reference (a zip-order bug, REFERENCE-SPEC 8 item 22); false = '{label}) {text}'"),
      })
      .strict()
      .prefault({})
      .describe('switches that reproduce the reference exactly'),
  })
  .strict();

export type ArcOptions = z.output<typeof ArcOptions>;

export const ARC_OPTIONS: InjectionToken<ArcOptions> = Symbol.for('bayes-peft.dataset-arc.options');
