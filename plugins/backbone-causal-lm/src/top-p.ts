/**
 * The nucleus of top-p sampling without sorting the vocabulary.
 *
 * The rule (transformers' TopPLogitsWarper, and what pickToken always did): walk the tokens from
 * the most likely down (ties: lower id first), keep each while the mass kept so far is below
 * topP. A full sort of a 32k row costs ~20 ms in JavaScript (a comparator sort of boxed indices),
 * and decoding 40 sequences sorted one row per token: it was 58% of a generation's time.
 *
 * Here the tokens are bucketed by the high 32 bits of their float64 probability (sign, exponent
 * and top mantissa bits: a monotone key, so every token of a bucket is less likely than every
 * token of an earlier bucket, and equal probabilities share one), counted, and scattered into
 * bucket order in id order; only the buckets the walk reaches are then sorted. The bucket width
 * adapts to the row (as fine as keeps the row's span of probabilities within BUCKETS buckets), so
 * even a flat row, a random model's with 90% of 32k tokens in the nucleus, has a token or two per
 * bucket. The walk visits the same tokens in the same order as the full sort and adds the same
 * float64 numbers in the same order, so the kept set, its mass and the token an inverse CDF draw
 * picks from them are identical to the sort's (tested against it on random rows).
 */

/** Buckets of a row; the last one also takes every token more than MAX_SPAN below the most likely. */
const BUCKETS = 1 << 15;
const LAST_BUCKET = BUCKETS - 1;
/**
 * 2^-40 of the most likely token's probability, in units of the high word (2^-20 octave): less
 * likely tokens share the last bucket, which a walk reaches only for a topP within ~n * 2^-40 of 1.
 */
const MAX_SPAN = 40 << 20;

/**
 * Past the summing-order error of the bucket masses (n * 2^-52 of the mass at most, 3e-11 for a
 * 128k vocabulary): a bucket whose estimated cumulative mass reaches topP + this holds the end of
 * the nucleus or follows it.
 */
const MASS_MARGIN = 1e-9;

/** Work arrays for one vocabulary size, reused across calls (generation is single-threaded). */
interface Scratch {
  readonly bucket: Int32Array;
  /** Counts, then where each bucket starts in `order` (one more entry: the end). */
  readonly starts: Int32Array;
  /** Where the scatter writes next in each bucket. */
  readonly next: Int32Array;
  /** Each bucket's probability mass, summed in id order (an estimate of where the nucleus ends). */
  readonly mass: Float64Array;
  /** Token ids in bucket order; a prefix of it is sorted and becomes the nucleus. */
  readonly order: Int32Array;
  /** Their probabilities, moved with them (the sort compares these, not probs[order[j]]). */
  readonly values: Float64Array;
}

let scratch: Scratch | null = null;

function scratchFor(n: number): Scratch {
  if (!scratch || scratch.order.length !== n) {
    scratch = {
      bucket: new Int32Array(n),
      starts: new Int32Array(BUCKETS + 1),
      next: new Int32Array(BUCKETS),
      mass: new Float64Array(BUCKETS),
      order: new Int32Array(n),
      values: new Float64Array(n),
    };
  }
  return scratch;
}

/** The nucleus of a row: its token ids in order (most likely first) and their summed mass, summed in that order. */
export interface Nucleus {
  /** A view of a reused buffer: valid until the next call. */
  readonly ids: Int32Array;
  readonly mass: number;
}

/**
 * Normalises `weights` (exp((logit - max) / T) of each token, the largest exactly 1) in place by
 * `sum` into the softmax, as `weights[i] / sum`, and returns the nucleus for `topP` in (0, 1):
 * the tokens the walk over the full descending sort keeps.
 */
export function nucleus(weights: Float64Array, sum: number, topP: number): Nucleus {
  const n = weights.length;
  const probs = weights;
  const { bucket, starts, next, mass: bucketMass, order, values } = scratchFor(n);
  // For values >= 0 the high word of a float64 (little-endian: the odd Uint32 of the pair) orders as the value does.
  const words = new Uint32Array(probs.buffer, probs.byteOffset, n * 2);
  // The most likely token's probability is 1 / sum (its weight is exp(0) = 1), the least likely's least / sum.
  let least = Infinity;
  for (let i = 0; i < n; i++) if (probs[i] < least) least = probs[i];
  const top = highWord(1 / sum);
  const span = Math.min(top - highWord(least / sum), MAX_SPAN);
  // The finest buckets that fit the span: bucket = (top - word) >>> shift.
  let shift = 0;
  while (span >>> shift >= LAST_BUCKET) shift++;
  starts.fill(0);
  bucketMass.fill(0);
  for (let i = 0; i < n; i++) {
    const p = probs[i] / sum;
    probs[i] = p;
    const below = top - words[2 * i + 1];
    const b = below >= MAX_SPAN ? LAST_BUCKET : below >>> shift;
    bucket[i] = b;
    starts[b + 1]++;
    bucketMass[b] += p;
  }
  // The last bucket the walk can reach: scatter and sort no further.
  let end = LAST_BUCKET;
  for (let b = 0, c = 0; b < LAST_BUCKET; b++) {
    c += bucketMass[b];
    if (c >= topP + MASS_MARGIN) {
      end = b;
      break;
    }
  }
  for (let b = 1; b <= end + 1; b++) starts[b] += starts[b - 1];
  // Scatter in id order, so each bucket lists its tokens by increasing id (the tie order).
  next.set(starts.subarray(0, end + 1));
  for (let i = 0; i < n; i++) {
    const b = bucket[i];
    if (b > end) continue;
    const at = next[b]++;
    order[at] = i;
    values[at] = probs[i];
  }

  let mass = 0;
  let kept = 0;
  for (let b = 0; b <= end; b++) {
    const from = starts[b];
    const to = starts[b + 1];
    if (to - from > 1) sortRange(order, values, from, to);
    for (let j = from; j < to; j++) {
      if (kept > 0 && mass >= topP) return { ids: order.subarray(0, kept), mass };
      mass += values[j];
      kept++;
    }
  }
  return { ids: order.subarray(0, kept), mass };
}

/** The high 32 bits of a float64 >= 0: sign, exponent, top 20 mantissa bits. */
function highWord(x: number): number {
  one[0] = x;
  return oneWords[1];
}
const one = new Float64Array(1);
const oneWords = new Uint32Array(one.buffer);

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
