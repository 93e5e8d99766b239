/**
 * The options every BLoB-style (trained variational LoRA) method shares: the reference's
 * `--bayes-*` flags in camelCase, with its defaults. A plugin spreads
 * `variationalLoraOptionFields` into its own zod object and adds what is its own.
 */
import { z } from 'zod';

export const variationalLoraOptionFields = {
  eps: z
    .number()
    .default(0.05)
    .describe('sigma parameterisation and rho init (--bayes-eps): >= 0 -> sigma = rho^2, rho ~ U(eps/sqrt2, eps); < 0 -> sigma = softplus(rho), rho ~ U(eps-1, eps)'),
  beta: z.number().positive().default(0.2).describe('prior std of A, p(A) = N(0, beta^2) (--bayes-beta; a std, not a KL weight)'),
  gamma: z.number().positive().default(8).describe('dataset-rescaling exponent: M = int(100 N^(pi/gamma) / batchSize) (--bayes-gamma)'),
  klLr: z.number().nonnegative().default(0.02).describe('learning rate of the SGD step on the KL (and on rho) (--bayes-kllr; the paper uses 0.01)'),
  klReweighting: z.boolean().default(false).describe('geometric KL weight pi = 2^j / (2^(M+1) - 1), j = step mod M (--bayes-klreweighting); else pi = 1/M'),
  datasetRescaling: z.boolean().default(false).describe('M from the dataset size, int(100 N^(pi/gamma) / batchSize), instead of the steps per epoch (--bayes-datasetrescaling)'),
  trainSamples: z.number().int().positive().default(1).describe('weight samples per training step; their logits are averaged before log_softmax (--bayes-train-n-samples)'),
  evalSamples: z.number().int().positive().default(1).describe('weight samples of intermediate evaluations (--bayes-eval-n-samples)'),
  evalSamplesFinal: z.number().int().positive().default(10).describe('weight samples of the final evaluation (--bayes-eval-n-samples-final)'),
  inferenceNotSample: z
    .boolean()
    .default(false)
    .describe("evaluate with the posterior mean, one pass, no sampling: BLoB 'N=0' (--bayes-inference-notsample; honoured by generation too)"),
};

/** The optimiser-split switch of the `compat:` section. */
export const rhoSgdOnlyField = z
  .boolean()
  .default(true)
  .describe(
    "the reference's optimiser split (docs/reference-differences.md row 22): AdamW on A, B with the NLL, then SGD(klLr) on A, B, rho with rho's NLL gradient plus pi dKL. false: one optimizer (the plan's) on NLL + pi KL over A, B and rho (rho without weight decay)",
  );

/** The generation switch of the `compat:` section (blob, blob-laplace). */
export const resampleEachStepField = z
  .boolean()
  .default(false)
  .describe(
    "the reference's generation (docs/reference-differences.md row 99, defect 13): fresh noise and sign vectors at every decoding step. false: one weight draw A + E per generated sequence, fixed for all its steps",
  );

/** What the shared machinery reads from a plugin's parsed options. */
export interface VariationalLoraOptions {
  readonly eps: number;
  readonly beta: number;
  readonly gamma: number;
  readonly klLr: number;
  readonly klReweighting: boolean;
  readonly datasetRescaling: boolean;
  readonly trainSamples: number;
  readonly evalSamples: number;
  readonly evalSamplesFinal: number;
  readonly inferenceNotSample: boolean;
  readonly compat: { readonly rhoSgdOnly: boolean; readonly resampleEachStep?: boolean };
}
