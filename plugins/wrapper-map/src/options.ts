import { z } from 'zod';

/**
 * MAP's options. The learning rate, optimizer, warmup and Adam epsilon come from the run's
 * training plan, rank/alpha/dropout/targets from its `lora:` section. `weightDecay` here always
 * wins over `train.weightDecay` (which MAP ignores, with a warning when it is set otherwise).
 */
export const MapOptions = z
  .object({
    weightDecay: z
      .number()
      .min(0)
      .default(1e-5)
      .describe(
        "the optimizer's weight decay, overriding train.weightDecay (--opt-wd; MAP = 1e-5). With adamw it is decoupled: p <- p (1 - lr wd) each step",
      ),
    priorStd: z
      .number()
      .positive()
      .nullable()
      .default(null)
      .describe(
        'std sigma_p of a Gaussian prior N(0, sigma_p^2) on every LoRA A and B element: adds sum(theta^2) / (2 sigma_p^2 N) to the batch-mean NLL (N training examples). null = no prior term (the reference)',
      ),
  })
  .strict()
  .prefault({});

export type MapOptions = z.output<typeof MapOptions>;
