/**
 * The nucleus of top-p sampling without sorting the vocabulary.
 *
 * The rule (transformers' TopPLogitsWarper, and what pickToken always did): walk the tokens from
 * the most likely down (ties: lower id first), keep each while the mass kept so far is below
 * topP. A full sort of a 32k row costs ~20 ms in JavaScript (a comparator sort of boxed indices),
 * and decoding 40 sequences sorted one row per token: it was 58% of a generation's time.
 *
 * Here the tokens are bucketed by their probability's float64 bits (exponent and the top
 * BUCKET_BITS of the mantissa: a monotone key, so every token of a bucket is less likely than
 * every token of an earlier bucket, and equal probabilities share one), counted, and scattered
 * into bucket order in id order; only the buckets the walk reaches are then sorted, each a
 * handful of tokens. The walk visits the same tokens in the same order as the full sort and adds
 * the same float64 numbers in the same order, so the kept set, its mass and the token an inverse
 * CDF draw picks from them are identical to the sort's (tested against it on random rows).
 */

/** Mantissa bits of the bucket key: 2048 buckets per octave of probability (each ~0.034% wide). */
const BUCKET_BITS = 11;
/**
 * Octaves below the most likely token that get buckets of their own; the rest (less likely than
 * 2^-20 of it) share the last one, which a walk reaches only for a topP within ~n * 2^-20 of 1.
 */
const OCTAVES = 20;
const LAST_BUCKET = OCTAVES << BUCKET_BITS;

/** Work arrays for one vocabulary size, reused across calls (generation is single-threaded). */
interface Scratch {
  readonly bucket: Int32Array;
  /** Counts, then where each bucket starts in `order` (one more entry: the end). */
  readonly starts: Int32Array;
  /** Where the scatter writes next in each bucket. */
  readonly next: Int32Array;
  /** Token ids in bucket order; a prefix of it is sorted and becomes the nucleus. */
  readonly order: Int32Array;
  /** Their probabilities, moved with them (the sort compares these, not probs[order[j]]). */
  readonly values: Float64Array;
}

let scratch: Scratch | null = null;

function scratchFor(n: number): Scratch {
  if (!scratch || scratch.order.length !== n) {
    scratch = { bucket: new Int32Array(n), starts: new Int32Array(LAST_BUCKET + 2), next: new Int32Array(LAST_BUCKET + 1), order: new Int32Array(n), values: new Float64Array(n) };
  }
  return scratch;
}

/** The nucleus of `probs`: its token ids in order (most likely first) and their summed mass, summed in that order. */
export interface Nucleus {
  /** A view of a reused buffer: valid until the next call. */
  readonly ids: Int32Array;
  readonly mass: number;
}

/**
 * The nucleus of normalised probabilities `probs` for `topP` in (0, 1): the tokens the walk over
 * the full descending sort keeps. `probs` must hold finite values >= 0 (a softmax).
 */
export function nucleus(probs: Float64Array, topP: number): Nucleus {
  const n = probs.length;
  const s = scratchFor(n);
  // The high word of each float64 (little-endian: the odd Uint32 of the pair) holds the sign,
  // the exponent and the top 20 mantissa bits; for values >= 0 it orders as the value does.
  const words = new Uint32Array(probs.buffer, probs.byteOffset, n * 2);
  let top = 0;
  for (let i = 0; i < n; i++) if (words[2 * i + 1] > top) top = words[2 * i + 1];
  const shift = 20 - BUCKET_BITS;
  const topKey = top >>> shift;
  const { bucket, starts, next, order, values } = s;
  starts.fill(0);
  for (let i = 0; i < n; i++) {
    const b = Math.min(topKey - (words[2 * i + 1] >>> shift), LAST_BUCKET);
    bucket[i] = b;
    starts[b + 1]++;
  }
  for (let b = 1; b <= LAST_BUCKET + 1; b++) starts[b] += starts[b - 1];
  // Scatter in id order, so each bucket lists its tokens by increasing id (the tie order).
  next.set(starts.subarray(0, LAST_BUCKET + 1));
  for (let i = 0; i < n; i++) {
    const at = next[bucket[i]]++;
    order[at] = i;
    values[at] = probs[i];
  }

  let mass = 0;
  let kept = 0;
  for (let b = 0; b <= LAST_BUCKET; b++) {
    const from = starts[b];
    const to = starts[b + 1];
    if (from === to) continue;
    sortRange(order, values, from, to);
    for (let j = from; j < to; j++) {
      if (kept > 0 && mass >= topP) return { ids: order.subarray(0, kept), mass };
      mass += values[j];
      kept++;
    }
  }
  return { ids: order.subarray(0, kept), mass };
}

/**
 * Sorts entries [from, to) of `order` and `values` by value, descending, ties by increasing id
 * (insertion sort, stable: the entries arrive in id order, and buckets are small).
 */
function sortRange(order: Int32Array, values: Float64Array, from: number, to: number): void {
  if (to - from > 64) {
    const part = Array.from(order.subarray(from, to), (id, k) => ({ id, p: values[from + k] })).sort((a, b) => b.p - a.p || a.id - b.id);
    part.forEach((e, k) => {
      order[from + k] = e.id;
      values[from + k] = e.p;
    });
    return;
  }
  for (let i = from + 1; i < to; i++) {
    const id = order[i];
    const p = values[i];
    let j = i - 1;
    while (j >= from && values[j] < p) {
      order[j + 1] = order[j];
      values[j + 1] = values[j];
      j--;
    }
    order[j + 1] = id;
    values[j + 1] = p;
  }
}
