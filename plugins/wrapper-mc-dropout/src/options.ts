import { z } from 'zod';

/**
 * MC dropout's options: the reference's `--bayes-eval-n-samples*` flags, plus the dropout rate
 * itself. The reference samples whatever `--lora-dropout` is and crashes with 0
 * (docs/reference-differences.md row 46); here the wrapper owns the rate, must have one > 0, and
 * uses it for its adapters (the run's `lora.dropout` must be 0, its default, or equal).
 */
export const McDropoutOptions = z
  .object({
    dropout: z
      .number()
      .gt(0, 'MC dropout needs a dropout rate > 0: with 0 every pass is the same and there is nothing to sample')
      .lt(1)
      .default(0.1)
      .describe(
        'dropout rate on the LoRA input, in training and kept on at evaluation (the paper: 0.1). It replaces lora.dropout, which must be 0 or equal',
      ),
    evalSamples: z.number().int().positive().default(1).describe('dropout passes of intermediate evaluations (--bayes-eval-n-samples)'),
    evalSamplesFinal: z.number().int().positive().default(10).describe('dropout passes of the final evaluation (--bayes-eval-n-samples-final)'),
  })
  .strict()
  .prefault({});

export type McDropoutOptions = z.output<typeof McDropoutOptions>;
