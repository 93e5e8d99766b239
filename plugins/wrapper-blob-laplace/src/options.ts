import { z } from 'zod';
import { resampleEachStepField, rhoSgdOnlyField, variationalLoraOptionFields } from '@bayes-peft/bayes-lora';

/**
 * BLoB-Laplace's options: BLoB's (the reference's `--bayes-*` flags, same defaults) plus the
 * Laplace scale factor, and switches back to the reference's non-reparameterised sample and
 * Gaussian KL.
 */
export const BlobLaplaceOptions = z
  .object({
    ...variationalLoraOptionFields,
    laplaceScaleFactor: z
      .number()
      .positive()
      .default(1)
      .describe('Laplace scale b = sigma * factor / sqrt 2, so the noise variance 2 b^2 is (factor sigma)^2 (--laplace-scale-factor)'),
    compat: z
      .object({
        rhoSgdOnly: rhoSgdOnlyField,
        resampleEachStep: resampleEachStepField,
        detachNoise: z
          .boolean()
          .default(false)
          .describe(
            "the reference's non-reparameterised Laplace sample (docs/reference-differences.md row 64): the noise carries no gradient to rho, so rho moves only by the KL. false: reparameterised, the likelihood trains rho too",
          ),
        gaussianKl: z
          .boolean()
          .default(false)
          .describe("the reference's KL: BLoB's Gaussian KL(N(M, sigma^2) || N(0, beta^2)) (defect 11). false: the Laplace posterior's own KL(Laplace(M, b) || N(0, beta^2)), closed form"),
      })
      .strict()
      .prefault({})
      .describe('switches that reproduce reference behaviour (detachNoise and gaussianKl both true: the reference blob_laplace)'),
  })
  .strict()
  .prefault({});

export type BlobLaplaceOptions = z.output<typeof BlobLaplaceOptions>;
