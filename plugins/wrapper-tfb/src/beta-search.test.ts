import { searchBeta, type BetaSearchOptions } from './beta-search';

const base: BetaSearchOptions = { low: 0.001, high: 0.2, iterations: 10, tolerance: 0.01, minWidth: 0, lastViolating: false };
/** A monotone criterion that crosses the tolerance 0.01 at beta = 0.0537. */
const crossing = async (beta: number) => 0.01 * (beta / 0.0537) ** 2;

describe('searchBeta', () => {
  it('returns the largest accepted candidate; every rejected one lies above it', async () => {
    const r = await searchBeta(base, crossing);
    expect(r.steps).toHaveLength(10);
    const accepted = r.steps.filter((s) => s.accepted).map((s) => s.beta);
    const rejected = r.steps.filter((s) => !s.accepted).map((s) => s.beta);
    expect(r.beta).toBe(Math.max(...accepted));
    expect(Math.min(...rejected)).toBeGreaterThan(r.beta);
    expect(await crossing(r.beta)).toBeLessThanOrEqual(0.01);
    expect(r.beta).toBeLessThan(0.0537);
    expect(0.0537 - r.beta).toBeLessThan((0.2 - 0.001) / 2 ** 10 + 1e-12);
    // bisection: each candidate is the midpoint of the interval before it
    let [low, high] = [0.001, 0.2];
    for (const s of r.steps) {
      expect(s.beta).toBe((low + high) / 2);
      [low, high] = [s.low, s.high];
    }
  });

  it("compat lastViolating returns the reference's choice: the last rejected candidate, or the upper bound", async () => {
    const r = await searchBeta({ ...base, lastViolating: true }, crossing);
    const rejected = r.steps.filter((s) => !s.accepted);
    expect(r.beta).toBe(rejected[rejected.length - 1].beta);
    expect(await crossing(r.beta)).toBeGreaterThan(0.01); // a beta that breaks the tolerance
    const none = await searchBeta({ ...base, lastViolating: true }, async () => 0);
    expect(none.beta).toBe(0.2);
    expect((await searchBeta(base, async () => 0)).beta).toBe(none.steps[none.steps.length - 1].beta);
  });

  it('falls back to the lower bound when nothing is accepted, and says so', async () => {
    const r = await searchBeta(base, async () => 1);
    expect(r.acceptedAny).toBe(false);
    expect(r.beta).toBe(0.001);
  });

  it('stops early once the interval is narrower than minWidth (tfblora_acc: 5e-4), and runs no step for iterations 0', async () => {
    const r = await searchBeta({ ...base, iterations: 50, minWidth: 5e-4 }, crossing);
    // (0.2 - 0.001) / 2^k < 5e-4 first at k = 9
    expect(r.steps).toHaveLength(9);
    expect((await searchBeta({ ...base, iterations: 0 }, crossing)).steps).toHaveLength(0);
    await expect(searchBeta({ ...base, low: 0.3 }, crossing)).rejects.toThrow(/low < high/);
  });
});
