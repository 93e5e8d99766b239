import { mcqOptionFields, REFERENCE_SPLITS } from '@bayes-peft/mcq';
import { z } from 'zod';
import { PIQA_LABELS } from './format';

/** PIQA on the hub (one config, plain_text). */
export const PIQA_HUB_REPO = 'ybisk/piqa';

export const PiqaOptions = z
  .object({
    ...mcqOptionFields({ repo: PIQA_HUB_REPO, splits: REFERENCE_SPLITS, labels: PIQA_LABELS }),
  })
  .strict();

export type PiqaOptions = z.output<typeof PiqaOptions>;
