import { z } from 'zod';

/**
 * MLE has no options of its own (the reference's `mle` parser adds none): learning rate,
 * optimizer, weight decay (MAP = weight decay 1e-5), warmup and epsilon come from the run's
 * training plan, rank/alpha/targets from its `lora:` section.
 */
export const MleOptions = z.object({}).strict().default({}).describe('MLE (and MAP via train.weightDecay) has no wrapper options');
export type MleOptions = z.output<typeof MleOptions>;
