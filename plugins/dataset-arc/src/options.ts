import { mcqOptionFields, REFERENCE_SPLITS } from '@bayes-peft/mcq';
import { z } from 'zod';
import { ARC_LABELS } from './format';

/** The hub dataset the reference loads (`load_dataset("ai2_arc", subset)`). */
export const ARC_HUB_REPO = 'allenai/ai2_arc';

export const ArcOptions = z
  .object({
    subset: z.enum(['ARC-Challenge', 'ARC-Easy']).default('ARC-Challenge').describe('ARC subset: the hub config name of allenai/ai2_arc'),
    ...mcqOptionFields({ repo: ARC_HUB_REPO, layout: '<subset>/<split>-*.parquet', splits: REFERENCE_SPLITS, labels: ARC_LABELS }),
    compat: z
      .object({
        swapChoiceFormat: z
          .boolean()
          .default(true)
          .describe("render each choice as '{text}) {label}' like the reference (a zip-order bug, docs/reference-differences.md row 13); false = '{label}) {text}'"),
      })
      .strict()
      .prefault({})
      .describe('switches that reproduce the reference exactly'),
  })
  .strict();

export type ArcOptions = z.output<typeof ArcOptions>;
