/**
 * The keys and values of an onnxruntime decoding, on the host, allocated for the whole
 * generation (and reused by the next one).
 *
 * Before, each step's graph concatenated the cache with the new positions and returned the
 * whole longer cache: per step a copy of every layer's cache inside onnxruntime, another into a
 * fresh JavaScript buffer (126 MB a step for 40 sequences of random-40M at 96 positions), and
 * the first touch of that fresh memory (on this machine ~5 ms per MB: 0.6 s for 126 MB, against
 * 9 ms to write the same memory again). Now the graph reads the cache in place (feeds are not
 * copied) and returns the new positions only, which are written into their slots here; the
 * buffers go back to a pool when the generation ends, so the next one touches no new memory.
 *
 * Layout per layer, keys and values alike: [S, B, KV, capacity, D], so a new position is one
 * contiguous run of D numbers per head (the graph multiplies the cache by the transposed
 * queries, K q^T, and needs no transposed copy of it). Slots from `length` on are unwritten;
 * the attention bias masks them.
 */
import { MASK_VALUE, hostBiasValues } from '../attention';

export interface CacheShape {
  readonly layers: number;
  readonly samples: number;
  readonly rows: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Positions it can hold: the prompt's width plus the tokens that will be fed back. */
  readonly capacity: number;
}

type Feed = { data: Float32Array; dims: number[] };

/**
 * Buffers of finished decodings, kept for the next (the largest set released last). Held until
 * `clear` (the model's dispose): at most one cache's worth of memory.
 */
export class KvBufferPool {
  private free: Float32Array[] | null = null;

  /** `count` buffers of at least `size` numbers each (a pooled set when large enough). */
  take(count: number, size: number): Float32Array[] {
    const pooled = this.free;
    if (pooled && pooled.length >= count && pooled[0].length >= size) {
      this.free = null;
      return pooled.slice(0, count).map((b) => b.subarray(0, size));
    }
    return Array.from({ length: count }, () => new Float32Array(size));
  }

  give(buffers: readonly Float32Array[]): void {
    const whole = buffers.map((b) => new Float32Array(b.buffer, 0, b.buffer.byteLength / 4));
    if (!this.free || whole[0].length * whole.length >= this.free[0].length * this.free.length) this.free = whole;
  }

  clear(): void {
    this.free = null;
  }
}

export class HostKvCache {
  private readonly buffers: Float32Array[];
  /** Positions written so far (the same for every row: rows are left padded). */
  length = 0;

  constructor(
    readonly shape: CacheShape,
    private readonly pool: KvBufferPool = new KvBufferPool(),
  ) {
    const { layers, samples, rows, kvHeads, headDim, capacity } = shape;
    // Layer l's keys at 2l, its values at 2l + 1. Unwritten slots may hold an earlier decoding's numbers: the bias masks them.
    this.buffers = pool.take(2 * layers, samples * rows * kvHeads * capacity * headDim);
  }

  /** The past feeds of layer l: nothing before the first write, else the whole buffers. */
  feeds(layer: number): { k: Feed; v: Feed } {
    const { samples, rows, kvHeads, headDim, capacity } = this.shape;
    const t = this.length === 0 ? 0 : capacity;
    const dims = [samples, rows, kvHeads, t, headDim];
    const data = (i: number) => (t === 0 ? new Float32Array(0) : this.buffers[i]);
    return { k: { data: data(2 * layer), dims }, v: { data: data(2 * layer + 1), dims: [...dims] } };
  }

  /**
   * The attention bias of `tn` new positions over the keys the graph sees: the past feed's slots
   * (none before the first write), then the new positions. `mask` [B][length + tn] marks real
   * tokens of every position so far, the new ones last.
   */
  bias(mask: readonly (readonly number[])[], tn: number, slidingWindow: number | null): Feed {
    const rows = mask.length;
    const total = this.length + tn;
    if (mask[0].length !== total) throw new Error(`decoding: the mask covers ${mask[0].length} positions, the cache ${this.length} + ${tn} new`);
    const plain = hostBiasValues(mask, tn, slidingWindow); // [B, tn, total]
    if (this.length === 0) return { data: plain, dims: [rows, 1, 1, tn, total] };
    const { capacity } = this.shape;
    const width = capacity + tn;
    const out = new Float32Array(rows * tn * width).fill(MASK_VALUE);
    for (let i = 0; i < rows * tn; i++) {
      out.set(plain.subarray(i * total, i * total + this.length), i * width);
      out.set(plain.subarray(i * total + this.length, (i + 1) * total), i * width + capacity);
    }
    return { data: out, dims: [rows, 1, 1, tn, width] };
  }

  /** Writes a step's new keys and values of layer l, [S, B, KV, tn, D] each, at slots [length, length + tn). */
  write(layer: number, newKeys: Float32Array, newValues: Float32Array, tn: number): void {
    const { samples, rows, kvHeads, headDim, capacity } = this.shape;
    if (this.length + tn > capacity) throw new Error(`decoding: ${this.length} + ${tn} positions exceed the cache's ${capacity}`);
    const heads = samples * rows * kvHeads;
    const run = tn * headDim;
    if (newKeys.length !== heads * run || newValues.length !== heads * run) {
      throw new Error(`decoding: layer ${layer} returned ${newKeys.length} keys and ${newValues.length} values for ${tn} positions`);
    }
    const keys = this.buffers[2 * layer];
    const values = this.buffers[2 * layer + 1];
    for (let h = 0; h < heads; h++) {
      const dst = (h * capacity + this.length) * headDim;
      const src = h * run;
      if (run >= 512) {
        // A prefill's runs: copied as blocks.
        keys.set(newKeys.subarray(src, src + run), dst);
        values.set(newValues.subarray(src, src + run), dst);
        continue;
      }
      for (let j = 0; j < run; j++) {
        keys[dst + j] = newKeys[src + j];
        values[dst + j] = newValues[src + j];
      }
    }
  }

  /** After every layer's write. */
  advance(tn: number): void {
    this.length += tn;
  }

  /** The buffers back to the pool; the cache is unusable after. */
  release(): void {
    this.pool.give(this.buffers);
    this.buffers.length = 0;
  }
}
