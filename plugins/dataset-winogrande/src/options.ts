import { mcqOptionFields, REFERENCE_SPLITS } from '@bayes-peft/mcq';
import { z } from 'zod';
import { WINOGRANDE_LABELS } from './format';

/** The hub dataset the reference loads (`load_dataset("winogrande", "winogrande_s")`). */
export const WINOGRANDE_HUB_REPO = 'allenai/winogrande';

/** Training set sizes (hub configs `winogrande_<size>`); all share the validation and test splits. */
export const WINOGRANDE_SIZES = ['xs', 's', 'm', 'l', 'xl', 'debiased'] as const;
export type WinograndeSize = (typeof WINOGRANDE_SIZES)[number];

export const WinograndeOptions = z
  .object({
    size: z
      .enum(WINOGRANDE_SIZES)
      .default('s')
      .describe(
        "training set: hub config winogrande_<size> (xs 160, s 640, m 2558, l 10234, xl 40398, debiased 9248 rows; the reference runs s and m); a local folder without a 'train' split is read from train_<size>.* (the layout of shared/data/winogrande)",
      ),
    ...mcqOptionFields({ repo: WINOGRANDE_HUB_REPO, layout: '<config>/<split>-*.parquet or train_<size>.jsonl', splits: REFERENCE_SPLITS, labels: WINOGRANDE_LABELS }),
  })
  .strict();

export type WinograndeOptions = z.output<typeof WinograndeOptions>;
