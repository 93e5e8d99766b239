import type { Rng } from '@bayes-peft/core';
import { nucleus } from './top-p';

/** log softmax(logits)[index] in float64, over one row of float32 logits. */
export function logProbAt(logits: Float32Array, index: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return logits[index] - max - Math.log(sum);
}

/** The first index of the largest logit (torch.argmax's tie rule). */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** The softmax of one row, reused across calls (one vocabulary size at a time). */
let probsScratch = new Float64Array(0);

/**
 * Draws a token id: greedy when temperature is 0, else from softmax(logits / temperature)
 * restricted to the nucleus, the most likely tokens whose mass reaches topP (transformers'
 * TopPLogitsWarper: a token is dropped when the mass of the more likely ones is already >= topP;
 * the most likely token always stays). One uniform draw from `rng` per sampled token, mapped to
 * a token by the inverse CDF over the kept tokens, most likely first, renormalised.
 */
export function pickToken(logits: Float32Array, temperature: number, topP: number, rng: Rng): number {
  if (temperature === 0) return argmax(logits);
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i] > max) max = logits[i];
  if (probsScratch.length !== n) probsScratch = new Float64Array(n);
  const probs = probsScratch;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    probs[i] = Math.exp((logits[i] - max) / temperature);
    sum += probs[i];
  }
  if (topP >= 1) {
    // Every token, in id order: no ordering needed, and the mass is 1 by definition.
    for (let i = 0; i < n; i++) probs[i] /= sum;
    const u = rng.next();
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += probs[i];
      if (u < acc) return i;
    }
    return n - 1;
  }
  // Normalises probs (as probs[i] / sum) and finds the nucleus in the same pass.
  const kept = nucleus(probs, sum, topP);
  const u = rng.next() * kept.mass;
  let acc = 0;
  for (let j = 0; j < kept.ids.length; j++) {
    acc += probs[kept.ids[j]];
    if (u < acc) return kept.ids[j];
  }
  return kept.ids[kept.ids.length - 1];
}
