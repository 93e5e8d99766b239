import type { InjectionToken } from 'tsyringe';
import { z } from 'zod';

/**
 * BLoB's options: the reference's `--bayes-*` flags (REFERENCE-SPEC 1.2) in camelCase, with
 * its defaults. Learning rate, optimizer, weight decay, warmup and Adam epsilon come from the
 * run's training plan; rank/alpha/dropout/targets from its `lora:` section.
 */
export const BlobOptions = z
  .object({
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
    compat: z
      .object({
        rhoSgdOnly: z
          .boolean()
          .default(true)
          .describe(
            "the reference's optimiser split (REFERENCE-SPEC 4.5, 8 defect 10): AdamW on A, B with the NLL, then SGD(klLr) on A, B, rho with rho's NLL gradient plus pi dKL. false: one optimizer (the plan's) on NLL + pi KL over A, B and rho (rho without weight decay)",
          ),
      })
      .strict()
      .prefault({})
      .describe('switches that reproduce reference behaviour'),
  })
  .strict()
  .prefault({});

export type BlobOptions = z.output<typeof BlobOptions>;

export const BLOB_OPTIONS = Symbol.for('bayes-peft.wrapper-blob.options') as InjectionToken<BlobOptions>;
