import { rowSourceFields, splitRoleFields, subsetFields } from '@bayes-peft/data';
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
    ...rowSourceFields({ repo: TRIVIAQA_HUB_REPO, layout: '<config>/<split>-*.parquet' }),
    ...splitRoleFields({
      train: 'train',
      test: 'validation',
      anchor: 'train',
      note: "the reference's --testing-set val: validation; shared/data has validation_subset",
      splitsNote: "the hub's 'test' split has no answers and is refused",
    }),
    template: z
      .enum(['dsc', 'up'])
      .default('dsc')
      .describe("prompt: 'dsc' = 'Answer the question below. Provide a concise answer. Question: {question} Answer:' (the fork, default); 'up' = without 'Provide a concise answer.'"),
    aliases: z
      .boolean()
      .default(true)
      .describe('references = the normalised answer and its normalised aliases (true), or the normalised answer only, as the reference scores (false)'),
    ...subsetFields({ mode: 'first' }),
  })
  .strict();

export type TriviaQaOptions = z.output<typeof TriviaQaOptions>;
