import { Rng } from '@bayes-peft/core';
import { pickToken } from './sampling';
import { nucleus } from './top-p';

/**
 * pickToken as it was before the bucketed nucleus, verbatim (a full sort of the row), except that
 * it makes `draws` draws from one sort (the sort of a 32k row takes ~20 ms).
 */
function pickTokensBySort(logits: Float32Array, temperature: number, topP: number, rng: Rng, draws: number): number[] {
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
  return Array.from({ length: draws }, () => {
    const u = rng.next() * mass;
    let acc = 0;
    for (const i of candidates) {
      acc += probs[i];
      if (u < acc) return i;
    }
    return candidates[candidates.length - 1];
  });
}

/** Rows of several shapes: flat (a random model's), peaked (a trained one's), coarse values with many ties, -Infinity entries. */
function randomRow(rng: Rng, kind: number, n: number): Float32Array {
  const row = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const g = rng.normal();
    row[i] = kind === 0 ? 0.4 * g : kind === 1 ? 3 * g + (i % 97 === 0 ? 12 : 0) : kind === 2 ? Math.round(2 * g) : g;
  }
  if (kind === 3) for (let i = 0; i < n; i += 7) row[i] = -Infinity;
  return row;
}

describe('top-p nucleus without a full sort', () => {
  it('picks the full sort\'s token for the same draw on random rows, temperatures and thresholds', () => {
    const rows = new Rng(5);
    let compared = 0;
    // A full sort of a 32k row takes ~20 ms (more under jest): 4 of the 40 rows are that long.
    for (let r = 0; r < 40; r++) {
      const n = r < 4 ? 32000 : [7, 512, 4096][r % 3];
      const row = randomRow(rows, r % 5 === 4 ? 3 : r % 3, n);
      for (const temperature of [0.3, 0.7, 1, 2.5]) {
        for (const topP of [1e-6, 0.5, 0.9, 0.95, 0.999999, 1]) {
          const a = new Rng(100 + r);
          const b = new Rng(100 + r);
          const fast = Array.from({ length: 4 }, () => pickToken(row, temperature, topP, a));
          expect(fast).toEqual(pickTokensBySort(row, temperature, topP, b, 4));
          compared += fast.length;
        }
      }
    }
    expect(compared).toBe(40 * 4 * 6 * 4);
  });

  it('keeps the most likely tokens until their mass reaches p, ties by lower id (hand-made row)', () => {
    // probs 0.4, 0.1, 0.2, 0.2, 0.1: most likely first, ties by id: 0, 2, 3, 1, 4.
    // Weights as pickToken passes them (the largest exactly 1), normalised by their sum 2.5.
    const at = (p: number) => {
      const k = nucleus(Float64Array.from([1, 0.25, 0.5, 0.5, 0.25]), 2.5, p);
      return { ids: [...k.ids], mass: k.mass };
    };
    expect(at(0.3)).toEqual({ ids: [0], mass: 0.4 });
    expect(at(0.4)).toEqual({ ids: [0], mass: 0.4 });
    expect(at(0.5)).toEqual({ ids: [0, 2], mass: 0.4 + 0.2 });
    expect(at(0.7)).toEqual({ ids: [0, 2, 3], mass: 0.4 + 0.2 + 0.2 });
    expect(at(0.9)).toEqual({ ids: [0, 2, 3, 1], mass: 0.4 + 0.2 + 0.2 + 0.1 });
    expect(at(0.999)).toEqual({ ids: [0, 2, 3, 1, 4], mass: 0.4 + 0.2 + 0.2 + 0.1 + 0.1 });
  });

  it('handles weights spanning more octaves than it has buckets, and zeros', () => {
    const weights = () => Float64Array.from([2e-30, 0, 1, 2e-25, 1 - 2e-25 - 2e-30]);
    expect([...nucleus(weights(), 2, 0.9999999).ids]).toEqual([2, 4]);
    expect([...nucleus(weights(), 2, 1 - 1e-17).ids]).toEqual([2, 4]);
    // A threshold no mass reaches keeps every token, the least likely last.
    expect([...nucleus(weights(), 2, 2).ids]).toEqual([2, 4, 3, 0, 1]);
  });
});
