import { z } from 'zod';

/**
 * TFB's options: the reference's tfblora / tfblora_acc flags that do
 * something, with its defaults, plus the fixes' switches.
 */
export const TfbOptions = z
  .object({
    adapter: z
      .string()
      .min(1)
      .optional()
      .describe("trained adapter folder in the PEFT layout (mle, map, blob or Python PEFT), relative to the spec; the run spec's top-level adapter: works too"),
    beta: z.number().positive().default(0.2).describe('upper bound of the search for beta, or the beta used when iterations is 0 (--bayes-beta; TFB scripts: 0.015)'),
    low: z.number().nonnegative().default(0.001).describe('lower bound of the search'),
    iterations: z.number().int().nonnegative().default(10).describe('bisection steps (--iter; TFB scripts: 5); 0 = use beta directly, no search'),
    tolerance: z
      .number()
      .nonnegative()
      .default(0.01)
      .describe('largest accepted criterion value (--th): relative anchor-NLL change (nll) or fraction of changed predictions (accuracy)'),
    criterion: z.enum(['nll', 'accuracy']).default('nll').describe('nll: tfblora; accuracy: tfblora_acc (also stops once the interval is narrower than 5e-4)'),
    trainSamples: z.number().int().positive().default(1).describe('weight samples per anchor pass during the search (--bayes-train-n-samples; TFB scripts: 10)'),
    evalSamples: z.number().int().positive().default(1).describe('weight samples of intermediate evaluations (--bayes-eval-n-samples)'),
    evalSamplesFinal: z.number().int().positive().default(10).describe('weight samples of the final evaluation (--bayes-eval-n-samples-final)'),
    singularValueFloor: z
      .number()
      .min(0)
      .max(1)
      .default(0.01)
      .describe("sigma_i = beta / max(d_i, floor * max_j d_j): a floor on B's small singular values, relative to the layer's largest"),
    compat: z
      .object({
        lastViolating: z
          .boolean()
          .default(false)
          .describe("the reference's search result: the last beta that broke the tolerance (or the upper bound). false: the largest beta within it"),
        divideByAnchorCount: z
          .boolean()
          .default(false)
          .describe('the reference divides the NLL criterion by the number of anchor examples too (with 500 anchors, th 0.003 allows a 150% NLL change)'),
        sigmaEpsilon: z.boolean().default(false).describe("the reference's sigma_i = beta / (d_i + 1e-6), unbounded as d_i -> 0, instead of the floor"),
      })
      .strict()
      .prefault({})
      .describe('switches that reproduce the reference (all three true: the reference tfblora numbers)'),
  })
  .strict()
  .refine((o) => o.iterations === 0 || o.low < o.beta, { message: 'low must be below beta (the search interval is [low, beta])', path: ['low'] })
  .prefault({});

export type TfbOptions = z.output<typeof TfbOptions>;
