import { mcqOptionFields, REFERENCE_SPLITS } from '@bayes-peft/mcq';
import { z } from 'zod';
import { CSQA_LABELS } from './format';

/** The hub dataset of the reference's `cqa` class (`load_dataset("commonsense_qa")`). */
export const CSQA_HUB_REPO = 'tau/commonsense_qa';

export const CommonsenseQaOptions = z
  .object({
    ...mcqOptionFields({ repo: CSQA_HUB_REPO, splits: REFERENCE_SPLITS, labels: CSQA_LABELS }),
  })
  .strict();

export type CommonsenseQaOptions = z.output<typeof CommonsenseQaOptions>;
