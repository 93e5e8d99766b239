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
});
