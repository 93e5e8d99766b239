import prand from 'pure-rand';

/**
 * Seeded, splittable random source. `child(label)` derives an independent stream from the
 * parent's seed and the label alone, so adding draws in one component never shifts another's.
 */
export class Rng {
  private gen: prand.RandomGenerator;

  constructor(readonly seed: number, readonly path: string = '') {
    this.gen = prand.xoroshiro128plus(mixSeed(seed, path));
  }

  child(label: string): Rng {
    return new Rng(this.seed, this.path ? `${this.path}/${label}` : label);
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform 32-bit unsigned integer. */
  uint32(): number {
    return this.gen.unsafeNext() >>> 0;
  }

  /** A seed for TensorFlow.js random ops (tf.randomNormal(..., seed)). */
  nextSeed(): number {
    return this.uint32();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return prand.unsafeUniformIntDistribution(0, n - 1, this.gen);
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Fisher-Yates on a copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

/** FNV-1a over the path, folded with the seed: a stable 32-bit stream id. */
function mixSeed(seed: number, path: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  h = Math.imul(h, 0x01000193) >>> 0;
  for (let i = 0; i < path.length; i++) {
    h ^= path.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= Math.floor(seed / 4294967296);
  return h | 0;
}
