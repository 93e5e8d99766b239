import { tf } from '@bayes-peft/tensor';
import type { CausalLmConfig } from './config';

const f32 = Math.fround;

/**
 * RoPE inverse frequencies, one per pair of head dimensions, as transformers computes them
 * (`_compute_default_rope_parameters`, then linear or `_compute_llama3_parameters`). Every
 * step is rounded to float32 the way PyTorch's float32 tensor arithmetic rounds it, so the
 * angles match the reference bit for bit in almost every entry rather than to 1e-7.
 */
export function inverseFrequencies(config: Pick<CausalLmConfig, 'headDim' | 'ropeTheta' | 'ropeScaling'>): Float32Array {
  const dim = config.headDim;
  const half = dim / 2;
  const base = f32(config.ropeTheta);
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    // 1.0 / (base ** (arange(0, dim, 2).float() / dim))
    inv[i] = f32(1 / f32(Math.pow(base, f32((2 * i) / dim))));
  }
  const scaling = config.ropeScaling;
  if (!scaling) return inv;
  if (scaling.type === 'linear') {
    const factor = f32(scaling.factor);
    for (let i = 0; i < half; i++) inv[i] = f32(inv[i] / factor);
    return inv;
  }
  // llama3: keep high frequencies, divide low ones by `factor`, blend in between.
  const factor = f32(scaling.factor);
  const oldContext = scaling.originalMaxPositionEmbeddings;
  const lowFreqWavelen = f32(oldContext / scaling.lowFreqFactor);
  const highFreqWavelen = f32(oldContext / scaling.highFreqFactor);
  const twoPi = f32(2 * Math.PI);
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    // PyTorch evaluates `scalar / tensor` as reciprocal(tensor) * scalar.
    const wavelen = f32(f32(1 / inv[i]) * twoPi);
    const llama = wavelen > lowFreqWavelen ? f32(inv[i] / factor) : inv[i];
    const isMedium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
    if (!isMedium) {
      out[i] = llama;
      continue;
    }
    const ratio = f32(f32(1 / wavelen) * f32(oldContext));
    const smooth = f32(f32(ratio - f32(scaling.lowFreqFactor)) / f32(scaling.highFreqFactor - scaling.lowFreqFactor));
    const lowPart = f32(f32(f32(1 - smooth) * llama) / factor);
    out[i] = f32(lowPart + f32(smooth * llama));
  }
  return out;
}

/**
 * Host-computed cos and sin tables, [positions, headDim], in the rotate-half layout
 * (each half repeats the frequencies). The sin table carries rotate-half's sign, -sin in the
 * first half and +sin in the second, so applying RoPE needs a half swap instead of a negation.
 * The tables grow on demand (positions are only known per batch) and live until dispose().
 */
export class RopeTables {
  private capacity = 0;
  private cosTable: tf.Tensor2D | null = null;
  private sinTable: tf.Tensor2D | null = null;

  constructor(
    private readonly invFreq: Float32Array,
    readonly headDim: number,
  ) {}

  /** Makes sure positions 0..count-1 are in the tables. */
  ensure(count: number): void {
    if (count <= this.capacity) return;
    // Grow geometrically so a run with slowly rising lengths rebuilds a handful of times.
    const capacity = Math.max(count, 2 * this.capacity, 256);
    const cos = new Float32Array(capacity * this.headDim);
    const sin = new Float32Array(capacity * this.headDim);
    for (let p = 0; p < capacity; p++) writeRopeRow(this.invFreq, p, cos, sin, p * this.headDim);
    this.dispose();
    this.cosTable = tf.keep(tf.tensor2d(cos, [capacity, this.headDim]));
    this.sinTable = tf.keep(tf.tensor2d(sin, [capacity, this.headDim]));
    this.capacity = capacity;
  }

  /**
   * cos and signed sin for int32 positions [B, T], shaped [B, T, 1, headDim] to broadcast over
   * the heads of [B, T, heads, headDim] projections. `maxPosition` (host-known bound) sizes the tables.
   */
  lookup(positions: tf.Tensor2D, maxPosition: number): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
    this.ensure(maxPosition + 1);
    const [b, t] = positions.shape;
    const shape: [number, number, number, number] = [b, t, 1, this.headDim];
    return {
      cos: tf.reshape(tf.gather(this.cosTable!, positions), shape),
      sin: tf.reshape(tf.gather(this.sinTable!, positions), shape),
    };
  }

  dispose(): void {
    this.cosTable?.dispose();
    this.sinTable?.dispose();
    this.cosTable = this.sinTable = null;
    this.capacity = 0;
  }
}

/**
 * cos and signed sin of position p in the rotate-half layout (see RopeTables), written at
 * `at` of each array: headDim = 2 * invFreq.length values each.
 */
export function writeRopeRow(invFreq: Float32Array, p: number, cos: Float32Array, sin: Float32Array, at: number): void {
  const half = invFreq.length;
  for (let i = 0; i < half; i++) {
    // freqs = inv_freq @ position_ids in float32: one rounded product.
    const angle = f32(invFreq[i] * p);
    const c = f32(Math.cos(angle));
    const s = f32(Math.sin(angle));
    cos[at + i] = c;
    cos[at + half + i] = c;
    sin[at + i] = -s;
    sin[at + half + i] = s;
  }
}

/**
 * The half swap cat(x2, x1) as a [headDim, headDim] permutation matrix: x P swaps the halves of
 * every row. A product by 0/1 entries is exact (each output is one input plus zeros), so this
 * gives the same numbers as slicing and concatenating, and it is far cheaper: two strided
 * slices, a concat and, in the backward pass, their split and pads took 12% of an evaluation
 * on the wasm backend, while one [B*T*H, D] x [D, D] product is a few microseconds of BLAS.
 */
export function halfSwapMatrix(headDim: number): tf.Tensor2D {
  const half = headDim / 2;
  const p = new Float32Array(headDim * headDim);
  for (let j = 0; j < headDim; j++) p[((j + half) % headDim) * headDim + j] = 1;
  return tf.tensor2d(p, [headDim, headDim]);
}

/**
 * x * cos + rotate_half(x) * sin for x [B, T, heads, headDim], with `sin` already signed:
 * rotate_half(x) = cat(-x2, x1), so rotate_half(x) * sin = cat(x2, x1) * cat(-s, s).
 * `swap` is halfSwapMatrix(headDim), made once per forward by the caller (made here when absent).
 */
export function applyRope(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D, swap?: tf.Tensor2D): tf.Tensor4D {
  const d = x.shape[3];
  const p = swap ?? halfSwapMatrix(d);
  const swapped = tf.reshape(tf.matMul(tf.reshape(x, [-1, d]) as tf.Tensor2D, p), x.shape);
  return tf.add(tf.mul(x, cos), tf.mul(swapped, sin));
}
