import type { Rng } from '@bayes-peft/core';

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

/**
 * Draws a token id: greedy when temperature is 0, else from softmax(logits / temperature)
 * restricted to the nucleus, the most likely tokens whose mass reaches topP (transformers'
 * TopPLogitsWarper: a token is dropped when the mass of the more likely ones is already >= topP;
 * the most likely token always stays). One uniform draw from `rng` per sampled token.
 */
export function pickToken(logits: Float32Array, temperature: number, topP: number, rng: Rng): number {
  if (temperature === 0) return argmax(logits);
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i] > max) max = logits[i];
  const probs = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    probs[i] = Math.exp((logits[i] - max) / temperature);
    sum += probs[i];
  }
  for (let i = 0; i < n; i++) probs[i] /= sum;
  let candidates: number[];
  let mass = 1;
  if (topP < 1) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probs[b] - probs[a] || a - b);
    candidates = [];
    mass = 0;
    for (const i of order) {
      if (candidates.length > 0 && mass >= topP) break;
      candidates.push(i);
      mass += probs[i];
    }
  } else {
    candidates = Array.from({ length: n }, (_, i) => i);
  }
  // Inverse CDF over the kept tokens, renormalised.
  const u = rng.next() * mass;
  let acc = 0;
  for (const i of candidates) {
    acc += probs[i];
    if (u < acc) return i;
  }
  return candidates[candidates.length - 1];
}
