import { Rng } from './rng';

describe('Rng', () => {
  it('gives the same stream for the same seed and path', () => {
    const a = new Rng(7).child('wrapper');
    const b = new Rng(7).child('wrapper');
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(Array.from({ length: 5 }, () => b.next()));
  });

  it('derives children independent of the draws made on the parent', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    a.next();
    a.next();
    expect(a.child('x').uint32()).toBe(b.child('x').uint32());
    expect(a.child('x').uint32()).not.toBe(a.child('y').uint32());
  });

  it('draws uniforms with mean 1/2 and variance 1/12, normals with mean 0 and variance 1', () => {
    const rng = new Rng(123);
    const n = 200_000;
    let s = 0, s2 = 0, z = 0, z2 = 0;
    let lo = 1, hi = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      lo = Math.min(lo, u); hi = Math.max(hi, u);
      s += u; s2 += u * u;
      const g = rng.normal();
      z += g; z2 += g * g;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    // 5 standard errors: fails by chance with probability < 1e-6 for any fixed seed.
    expect(Math.abs(s / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(s2 / n - (s / n) ** 2 - 1 / 12)).toBeLessThan(0.002);
    expect(Math.abs(z / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(z2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });

  it('shuffles into a permutation', () => {
    const out = new Rng(1).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...out].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('numbers the streams of a sequence: nextChild(label) is child(label/0), child(label/1), ...', () => {
    const rng = new Rng(5).child('wrapper');
    const draws = [0, 1, 2].map(() => rng.nextChild('predict').uint32());
    const expected = [0, 1, 2].map((i) => new Rng(5).child('wrapper').child(`predict/${i}`).uint32());
    expect(draws).toEqual(expected);
    expect(rng.nextChild('predict').path).toBe('wrapper/predict/3');
    expect(rng.nextChild('generate').path).toBe('wrapper/generate/0');
  });

  it('keeps the positions of every sequence in the tree, readable and restorable at its root', () => {
    const root = new Rng(9);
    const a = root.child('wrapper-a');
    a.nextChild('predict');
    a.nextChild('predict');
    // Another instance of the same path shares the position: it is the tree's, not the instance's.
    root.child('wrapper-a').nextChild('predict');
    root.child('b').child('c').nextChild('generate');
    const state = root.state();
    expect(state).toEqual({ seed: 9, sequences: { 'b/c/generate': 1, 'wrapper-a/predict': 3 } });
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    expect(a.state()).toEqual(state);

    // A fresh tree (a resumed process) continues where the state left off.
    const resumed = new Rng(9);
    const w = resumed.child('wrapper-a');
    resumed.restore(state);
    expect(w.nextChild('predict').uint32()).toBe(root.child('wrapper-a').nextChild('predict').uint32());
    expect(resumed.child('b').child('c').nextChild('generate').path).toBe('b/c/generate/1');
    // restore replaces positions drawn before it.
    const other = new Rng(9);
    other.child('x').nextChild('y');
    other.restore(state);
    expect(other.state()).toEqual(state);
  });

  it('refuses a state of another seed or with a bad position', () => {
    expect(() => new Rng(1).restore({ seed: 2, sequences: {} })).toThrow(/seed 2 into a run with seed 1/);
    expect(() => new Rng(1).restore({ seed: 1, sequences: { p: -1 } })).toThrow(/sequence 'p' has position -1/);
  });
});
