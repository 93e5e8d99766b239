import { klCycleLength, klWeight } from './kl-weight';

describe('KL weight pi and cycle length M', () => {
  it('M = int(100 N^(pi/gamma) / processes / batch) with dataset rescaling, else the steps per epoch', () => {
    // winogrande_s: N 640, batch 4, gamma 8: 640^(pi/8) = 12.6469 -> 100 * 12.6469 / 4 = 316.17 -> 316
    const base = { numTrainExamples: 640, batchSize: 4, gamma: 8, stepsPerEpoch: 160 };
    expect(klCycleLength({ ...base, datasetRescaling: true })).toBe(316);
    expect(klCycleLength({ ...base, datasetRescaling: true, numProcesses: 2 })).toBe(158);
    expect(klCycleLength({ ...base, datasetRescaling: false })).toBe(160);
    expect(() => klCycleLength({ ...base, datasetRescaling: false, stepsPerEpoch: 0 })).toThrow(/must be >= 1/);
  });

  it('pi = 1/M, or 2^j / (2^(M+1) - 1) with j = i mod M (j := M at 0) when reweighting', () => {
    expect(klWeight(1, 316, false)).toBe(1 / 316);
    expect(klWeight(99, 316, false)).toBe(1 / 316);
    // M = 3: 2^(M+1) - 1 = 15; i = 1, 2, 3, 4 -> j = 1, 2, 3 (0 -> M), 1
    expect([1, 2, 3, 4].map((i) => klWeight(i, 3, true))).toEqual([2 / 15, 4 / 15, 8 / 15, 2 / 15].map((x) => expect.closeTo(x, 15)));
    // a cycle sums to (2^(M+1) - 2) / (2^(M+1) - 1)
    const M = 10;
    let sum = 0;
    for (let i = 1; i <= M; i++) sum += klWeight(i, M, true);
    expect(sum).toBeCloseTo((2 ** (M + 1) - 2) / (2 ** (M + 1) - 1), 14);
    // M = 316: negligible except at the end of the cycle, ~1/2 at j = M
    expect(klWeight(316, 316, true)).toBeCloseTo(0.5, 12);
    expect(klWeight(1, 316, true)).toBeCloseTo(2 ** -316, 100);
    // large M: exact 0 (as the reference's big-int ratio underflows) rather than NaN
    expect(klWeight(1, 2000, true)).toBe(0);
    expect(klWeight(2000, 2000, true)).toBe(0.5);
  });
});
