import { mcqOptionFields, REFERENCE_SPLITS } from '@bayes-peft/mcq';
import { z } from 'zod';
import { HELLASWAG_LABELS } from './format';

/** HellaSwag on the hub. */
export const HELLASWAG_HUB_REPO = 'Rowan/hellaswag';

export const HellaswagOptions = z
  .object({
    ...mcqOptionFields({ repo: HELLASWAG_HUB_REPO, splits: REFERENCE_SPLITS, labels: HELLASWAG_LABELS }),
  })
  .strict();

export type HellaswagOptions = z.output<typeof HellaswagOptions>;
