import { z } from 'zod';

/** The hub dataset and config the reference loads (`load_dataset("truthful_qa", "generation")`). */
export const TRUTHFULQA_HUB_REPO = 'truthfulqa/truthful_qa';
export const TRUTHFULQA_CONFIG = 'generation';

export const TruthfulQaOptions = z
  .object({
    source: z
      .string()
      .min(1)
      .optional()
      .describe(
        `where the rows are: a local folder (holding <split>.jsonl/.json/.parquet/.csv or generation/<split>-*.parquet), a file or a template with {split}, or a hub dataset id; default: ${TRUTHFULQA_HUB_REPO}`,
      ),
    revision: z.string().min(1).optional().describe('hub revision (branch, tag or commit) of the dataset; default main'),
    split: z.string().min(1).default('validation').describe('the upstream split (or local file name without extension) holding all questions; TruthfulQA has only validation (817 rows)'),
    trainFraction: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.8)
      .describe("train = the first int(trainFraction * N) rows, test = the rest, in file order (the reference: 653 / 164 of 817); the anchor role reads the train part"),
    primaryReference: z
      .enum(['first-correct', 'best-answer'])
      .default('first-correct')
      .describe("the primary reference (and training answer): correct_answers[0] as the reference, or best_answer; the other correct answers follow as aliases"),
    chatTemplate: z
      .enum(['auto', 'always', 'never'])
      .default('auto')
      .describe("'auto': the model's chat template when its tokenizer has one (the reference), else the plain prompt; 'always': fail without one; 'never': the plain prompt"),
    maxTrainExamples: z.number().int().positive().optional().describe('keep at most this many training examples (default: all)'),
    maxTestExamples: z.number().int().positive().optional().describe('keep at most this many evaluation examples (default: all)'),
    maxAnchorExamples: z.number().int().positive().optional().describe('anchor subset size (default: all of the train part)'),
    subsetMode: z
      .enum(['first', 'sample'])
      .default('first')
      .describe("how max*Examples picks within a part: 'first' = file order (the reference's oedataset: select(range(N))); 'sample' = seeded shuffle, then the first N"),
    subsetSeed: z.number().int().nonnegative().default(42).describe("seed of the 'sample' shuffle; one shuffle per part, so the anchor is a prefix of the train subset"),
  })
  .strict();

export type TruthfulQaOptions = z.output<typeof TruthfulQaOptions>;
