import { argmax } from './classification';

/**
 * TFB's `val_flip_ratio` (docs/methods.md, 'TFB'): the share of examples whose predicted class
 * under the sampled model (`sampled`: the sample-combined distribution) differs from the one of
 * the posterior mean (`mean`: one deterministic pass). Either may be probabilities or logits of
 * one example a row: softmax keeps the argmax. 0 means the noise never changes a decision.
 */
export function flipRatio(mean: readonly (readonly number[])[], sampled: readonly (readonly number[])[]): number {
  if (mean.length !== sampled.length) throw new Error(`flip ratio: ${mean.length} mean predictions for ${sampled.length} sampled ones`);
  if (mean.length === 0) throw new Error('flip ratio needs at least one example');
  let flipped = 0;
  for (let i = 0; i < mean.length; i++) if (argmax(mean[i]) !== argmax(sampled[i])) flipped++;
  return flipped / mean.length;
}
