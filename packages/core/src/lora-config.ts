import { z } from 'zod';
import { SITE_KINDS } from './contracts/backbone';

/** LoRA hyperparameters shared by every wrapper (defaults = the reference's: docs/methods.md, 'LoRA'). */
export const LoraConfigSchema = z
  .object({
    r: z.number().int().positive().default(8).describe('LoRA rank'),
    alpha: z.number().positive().default(16).describe('LoRA alpha; scaling = alpha / r'),
    dropout: z.number().min(0).max(1).default(0).describe('dropout on the LoRA input (0 = identity)'),
    targets: z
      .array(z.enum(SITE_KINDS))
      .min(1)
      .default(['q_proj', 'v_proj', 'lm_head'])
      .describe('module kinds that receive an adapter (the paper: q_proj, v_proj, lm_head)'),
  })
  .strict();

export type LoraConfig = z.output<typeof LoraConfigSchema>;
