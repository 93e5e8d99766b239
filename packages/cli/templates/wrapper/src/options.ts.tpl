import { z } from 'zod';

/**
 * The options a run spec gives this wrapper (`wrapper: { plugin: {{packageName}}, options: {...} }`).
 * The schema validates them before anything runs, fills the defaults, and documents each one:
 * `bayes-peft options {{packageName}}` prints the descriptions. Learning rate, optimizer, weight
 * decay and warmup come from the spec's `train:` section (the TrainingPlan), rank, alpha and
 * targets from its `lora:` section, so they are not repeated here.
 */
export const {{className}}Options = z
  .object({
    labelSmoothing: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe('weight of the uniform distribution mixed into the training target (0 = plain maximum likelihood)'),
  })
  .strict()
  .prefault({});

export type {{className}}Options = z.output<typeof {{className}}Options>;
