import { z } from 'zod';

/** The hub dataset the reference loads (`load_dataset("squad_v2")`, today `rajpurkar/squad_v2`) and its one config. */
export const SQUAD_V2_HUB_REPO = 'rajpurkar/squad_v2';
export const SQUAD_V2_DEFAULT_CONFIG = 'squad_v2';

export const SquadV2Options = z
  .object({
    config: z.string().min(1).default(SQUAD_V2_DEFAULT_CONFIG).describe(`hub config of ${SQUAD_V2_HUB_REPO} (it has one, squad_v2)`),
    source: z
      .string()
      .min(1)
      .optional()
      .describe(
        `where the rows are: a local folder (holding <split>.jsonl/.json/.parquet/.csv or <config>/<split>-*.parquet), a file or a template with {split}, or a hub dataset id; default: ${SQUAD_V2_HUB_REPO}`,
      ),
    revision: z.string().min(1).optional().describe('hub revision (branch, tag or commit) of the dataset; default main'),
    splits: z
      .object({
        train: z.string().min(1).default('train').describe('split (or local file name without extension) used for training'),
        test: z.string().min(1).default('validation').describe("split used for evaluation (SQuAD v2 has no public test split; the reference's --testing-set val reads validation)"),
        anchor: z.string().min(1).default('train').describe('split the anchor subset is drawn from'),
      })
      .strict()
      .prefault({})
      .describe('split name per role'),
    chatTemplate: z
      .enum(['auto', 'always', 'never'])
      .default('auto')
      .describe("'auto': the model's chat template when its tokenizer has one (the reference), else the plain prompt; 'always': fail without one; 'never': the plain prompt"),
    aliases: z
      .boolean()
      .default(true)
      .describe("references = every normalised answer text, deduplicated (true), or only the first, as the reference scores (false); 'unanswerable' either way for a question without answers"),
    questions: z
      .enum(['all', 'answerable', 'unanswerable'])
      .default('all')
      .describe("which questions to keep, before max*Examples: 'all' (the reference), only those with an answer, or only the unanswerable ones"),
    maxTrainExamples: z.number().int().positive().optional().describe('keep at most this many training examples (default: all)'),
    maxTestExamples: z.number().int().positive().optional().describe('keep at most this many evaluation examples (default: all)'),
    maxAnchorExamples: z.number().int().positive().optional().describe('anchor subset size (default: all of the anchor split)'),
    subsetMode: z
      .enum(['first', 'sample'])
      .default('first')
      .describe("how max*Examples picks: 'first' = file order (the reference's oedataset: select(range(N))); 'sample' = seeded shuffle, then the first N"),
    subsetSeed: z.number().int().nonnegative().default(42).describe("seed of the 'sample' shuffle; one shuffle per split, so the anchor is a prefix of the train subset when both use the same split"),
  })
  .strict();

export type SquadV2Options = z.output<typeof SquadV2Options>;
