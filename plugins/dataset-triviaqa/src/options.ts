import { z } from 'zod';

/** The hub dataset and config the reference loads (`load_dataset("mandarjoshi/trivia_qa", "rc.nocontext")`). */
export const TRIVIAQA_HUB_REPO = 'mandarjoshi/trivia_qa';
export const TRIVIAQA_DEFAULT_CONFIG = 'rc.nocontext';

export const TriviaQaOptions = z
  .object({
    config: z
      .string()
      .min(1)
      .default(TRIVIAQA_DEFAULT_CONFIG)
      .describe(`hub config of ${TRIVIAQA_HUB_REPO} (the reference: rc.nocontext; rc, unfiltered.nocontext, ... have the same question/answer fields)`),
    source: z
      .string()
      .min(1)
      .optional()
      .describe(
        `where the rows are: a local folder (holding <split>.jsonl/.json/.parquet/.csv or <config>/<split>-*.parquet), a file or a template with {split}, or a hub dataset id; default: ${TRIVIAQA_HUB_REPO}`,
      ),
    revision: z.string().min(1).optional().describe('hub revision (branch, tag or commit) of the dataset; default main'),
    splits: z
      .object({
        train: z.string().min(1).default('train').describe('split (or local file name without extension) used for training'),
        test: z.string().min(1).default('validation').describe("split used for evaluation (the reference's --testing-set val: validation; shared/data has validation_subset)"),
        anchor: z.string().min(1).default('train').describe('split the anchor subset is drawn from'),
      })
      .strict()
      .prefault({})
      .describe("split name per role; the hub's 'test' split has no answers and is refused"),
    template: z
      .enum(['dsc', 'up'])
      .default('dsc')
      .describe("prompt: 'dsc' = 'Answer the question below. Provide a concise answer. Question: {question} Answer:' (the fork, default); 'up' = without 'Provide a concise answer.'"),
    aliases: z
      .boolean()
      .default(true)
      .describe('references = the normalised answer and its normalised aliases (true), or the normalised answer only, as the reference scores (false)'),
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

export type TriviaQaOptions = z.output<typeof TriviaQaOptions>;
