import { mcqOptionFields, REFERENCE_SPLITS } from '@bayes-peft/mcq';
import { z } from 'zod';
import { OBQA_LABELS } from './format';

/** The hub dataset the reference loads (`load_dataset("openbookqa", "main")`). */
export const OBQA_HUB_REPO = 'allenai/openbookqa';

export const OpenBookQaOptions = z
  .object({
    config: z
      .enum(['main', 'additional'])
      .default('main')
      .describe("hub config of allenai/openbookqa: 'main' (the reference's) or 'additional' (the same questions with their facts; the fields read here are the same)"),
    ...mcqOptionFields({ repo: OBQA_HUB_REPO, layout: '<config>/<split>-*.parquet', splits: REFERENCE_SPLITS, labels: OBQA_LABELS }),
    compat: z
      .object({
        referencePrompt: z
          .boolean()
          .default(true)
          .describe(
            "the reference's prompt, quirks included (docs/reference-differences.md row 55): the 'Chioces:' typo and each choice rendered '{text}) {label}' (a zip-order bug); false = 'Choices:' and '{label}) {text}'",
          ),
      })
      .strict()
      .prefault({})
      .describe('switches that reproduce the reference exactly'),
  })
  .strict();

export type OpenBookQaOptions = z.output<typeof OpenBookQaOptions>;
