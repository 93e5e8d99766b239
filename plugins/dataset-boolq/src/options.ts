import { mcqOptionFields, REFERENCE_SPLITS } from '@bayes-peft/mcq';
import { z } from 'zod';
import { BOOLQ_PASSAGE_MAX_CHARS, BOOLQ_REFERENCE_LABELS } from './format';

/** The hub dataset the reference loads (`load_dataset("boolq")`). */
export const BOOLQ_HUB_REPO = 'google/boolq';

export const BoolqOptions = z
  .object({
    ...mcqOptionFields({ repo: BOOLQ_HUB_REPO, splits: REFERENCE_SPLITS, labels: BOOLQ_REFERENCE_LABELS }),
    passageMaxChars: z
      .number()
      .int()
      .positive()
      .nullable()
      .default(BOOLQ_PASSAGE_MAX_CHARS)
      .describe("keep the passage's first N characters (code points, as Python counts), as the reference's passage[:1024]; null keeps whole passages (the prompt's end survives truncation either way)"),
    compat: z
      .object({
        invertTargets: z
          .boolean()
          .default(true)
          .describe(
            "the reference's targets (docs/reference-differences.md row 56): labels ['True', 'False'] with class = int(answer), so an answer of true is trained on the token 'False' and false on 'True'; false = labels ['False', 'True'] (true on 'True')",
          ),
      })
      .strict()
      .prefault({})
      .describe('switches that reproduce the reference exactly'),
  })
  .strict();

export type BoolqOptions = z.output<typeof BoolqOptions>;
