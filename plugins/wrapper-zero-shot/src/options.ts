import { z } from 'zod';
import { SITE_KINDS } from '@bayes-peft/core';

/** The reference's targets for the random LoRA: every projection of a Llama block (no lm_head). */
export const ZERO_SHOT_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

/**
 * Options of the zero-shot Bayesian evaluation: the reference's run_bayesian_zeroshot_qa.py flags
 * (`--sigma`, `--noise-type`, `--n-samples`) with its defaults, plus which factors are perturbed and
 * the LoRA targets. Rank and alpha come from the run's `lora:` section (the reference: r 8, alpha 16,
 * the run spec's defaults); `targets` here replaces `lora.targets`.
 */
export const ZeroShotOptions = z
  .object({
    sigma: z.number().positive().default(0.05).describe('noise scale: the std of the Gaussian noise, the scale b of the Laplace noise (--sigma)'),
    noise: z
      .enum(['gaussian', 'laplace'])
      .default('gaussian')
      .describe('noise family: gaussian N(0, sigma^2); laplace Laplace(0, b = sigma), std sqrt(2) sigma, as the reference (not variance-matched)'),
    perturb: z
      .enum(['a-and-b', 'b'])
      .default('a-and-b')
      .describe(
        "a-and-b: noise on A and B (the reference; as B starts at 0, delta W = s E_B (A + E_A) is second order in sigma once sigma >> 1/sqrt(3 in)); b: noise on B only, delta W = s E_B A, first order",
      ),
    samples: z.number().int().positive().default(5).describe('weight samples per question, in every evaluation (--n-samples)'),
    targets: z
      .array(z.enum(SITE_KINDS))
      .min(1)
      .default([...ZERO_SHOT_TARGETS])
      .describe("module kinds that get the random LoRA (the reference: the seven projections); replaces the run's lora.targets"),
  })
  .strict()
  .prefault({});

export type ZeroShotOptions = z.output<typeof ZeroShotOptions>;
