import { z } from 'zod';
import { resampleEachStepField, rhoSgdOnlyField, variationalLoraOptionFields } from '@bayes-peft/bayes-lora';

/**
 * BLoB's options: the reference's `--bayes-*` flags in camelCase, with
 * its defaults (the fields every BLoB-style method shares, from @bayes-peft/bayes-lora).
 * Learning rate, optimizer, weight decay, warmup and Adam epsilon come from the run's training
 * plan; rank/alpha/dropout/targets from its `lora:` section.
 */
export const BlobOptions = z
  .object({
    ...variationalLoraOptionFields,
    compat: z
      .object({ rhoSgdOnly: rhoSgdOnlyField, resampleEachStep: resampleEachStepField })
      .strict()
      .prefault({})
      .describe('switches that reproduce reference behaviour'),
  })
  .strict()
  .prefault({});

export type BlobOptions = z.output<typeof BlobOptions>;
