import { chatTemplateField, rowSourceFields, subsetFields } from '@bayes-peft/data';
import { z } from 'zod';

/** The hub dataset and config the reference loads (`load_dataset("truthful_qa", "generation")`). */
export const TRUTHFULQA_HUB_REPO = 'truthfulqa/truthful_qa';
export const TRUTHFULQA_CONFIG = 'generation';

export const TruthfulQaOptions = z
  .object({
    ...rowSourceFields({ repo: TRUTHFULQA_HUB_REPO, layout: 'generation/<split>-*.parquet' }),
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
    ...chatTemplateField,
    ...subsetFields({ mode: 'first', anchorDefault: 'all of the train part', unit: 'part' }),
  })
  .strict();

export type TruthfulQaOptions = z.output<typeof TruthfulQaOptions>;
