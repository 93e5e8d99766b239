import prand from 'pure-rand';

/**
 * The resumable part of a run's random streams: how far each numbered sequence
 * (`Rng.nextChild`) has got. Every other stream is a pure function of the seed and its path.
 */
export interface RngState {
  readonly seed: number;
  /** Streams handed out so far by each numbered sequence, by the sequence's path. */
  readonly sequences: Readonly<Record<string, number>>;
}

/**
 * Seeded, splittable random source. `child(label)` derives an independent stream from the
 * parent's seed and the label alone, so adding draws in one component never shifts another's.
 *
 * Resuming a run exactly (a checkpoint, then a fresh process) needs every stream a method draws
 * from during training and evaluation to be reproducible from what the checkpoint holds. The
 * design keeps that in one place, here, rather than in each wrapper:
 *
 * - Streams tied to a training step or an epoch are derived from their index
 *   (`child('train/<step>')`, `child('data-order').child('epoch-<e>')`): nothing to save.
 * - Streams tied to a call the caller names get a child of the caller's stream (a generation
 *   batch's `ctx.rng`: `generation/final/batch-<k>`), so a call skipped on resume (a batch
 *   already generated) shifts nothing.
 * - Streams tied to a call that has no index of its own (the k-th `predict` of the run,
 *   intermediate evaluations included) come from `nextChild(label)`, which
 *   hands out `child('<label>/0')`, `child('<label>/1')`, ... The positions of these numbered
 *   sequences are kept by the tree (one table shared by a root `Rng` and every descendant), so
 *   `state()` on the run's root captures all of them and the runner writes it into each
 *   checkpoint; `restore(state)` on a resumed run's fresh root continues every sequence where
 *   the checkpoint left it. (A counter in each wrapper would have to be saved by each wrapper:
 *   that is how BLoB's and MC dropout's evaluation draws got lost on resume.)
 * - An Rng instance's own generator position is deliberately not state: an instance is drawn
 *   from within one step or one call and then dropped. Do not keep drawing from one instance
 *   across steps or calls; take a derived child or a `nextChild` instead.
 */
export class Rng {
  private gen: prand.RandomGenerator;
  /** Positions of the tree's numbered sequences (shared with the root and every descendant). */
  private sequences = new Map<string, number>();

  constructor(readonly seed: number, readonly path: string = '') {
    this.gen = prand.xoroshiro128plus(mixSeed(seed, path));
  }

  child(label: string): Rng {
    const c = new Rng(this.seed, this.join(label));
    c.sequences = this.sequences;
    return c;
  }

  /**
   * The next stream of the numbered sequence `label` under this path: `child('<label>/<i>')`
   * for i = 0, 1, 2, ... in call order. The position belongs to the tree, so it is part of
   * `state()` and survives a checkpoint and resume.
   */
  nextChild(label: string): Rng {
    const key = this.join(label);
    const i = this.sequences.get(key) ?? 0;
    this.sequences.set(key, i + 1);
    return this.child(`${label}/${i}`);
  }

  /** The positions of every numbered sequence of this tree (JSON-able; any node answers for the whole tree). */
  state(): RngState {
    return { seed: this.seed, sequences: Object.fromEntries([...this.sequences].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
  }

  /** Continues every numbered sequence of this tree from `state` (a `state()` of a tree with the same seed). */
  restore(state: RngState): void {
    if (state.seed !== this.seed) throw new Error(`cannot restore the random streams of seed ${state.seed} into a run with seed ${this.seed}`);
    const entries = Object.entries(state.sequences ?? {});
    for (const [key, n] of entries) {
      if (!(Number.isInteger(n) && n >= 0)) throw new Error(`random stream state: sequence '${key}' has position ${String(n)}, expected an integer >= 0`);
    }
    this.sequences.clear();
    for (const [key, n] of entries) this.sequences.set(key, n);
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

  private join(label: string): string {
    return this.path ? `${this.path}/${label}` : label;
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
