import { z } from 'zod';

/**
 * Deep ensemble options: the reference's `--ensemble-n` and the rule that
 * combines the members' predictions (the reference averages logits: docs/reference-differences.md row 49).
 */
export const DeepEnsembleOptions = z
  .object({
    members: z.number().int().min(1).default(3).describe('ensemble members n, each its own LoRA, optimizer and schedule (--ensemble-n)'),
    averaging: z
      .enum(['probs', 'logits'])
      .default('probs')
      .describe(
        "how members' predictions combine: 'probs' = mean of the members' softmax probabilities (as every other method); 'logits' = softmax of the mean logits (the reference's deep ensemble, docs/reference-differences.md row 49)",
      ),
  })
  .strict()
  .prefault({});

export type DeepEnsembleOptions = z.output<typeof DeepEnsembleOptions>;
