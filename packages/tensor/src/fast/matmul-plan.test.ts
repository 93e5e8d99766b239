import { planMatMul } from './matmul-plan';

describe('planMatMul', () => {
  it('reads m, n, k through the transposes', () => {
    expect(planMatMul([3, 5], [5, 7], false, false)).toMatchObject({ outShape: [3, 7], m: 3, n: 7, k: 5 });
    expect(planMatMul([5, 3], [5, 7], true, false)).toMatchObject({ outShape: [3, 7], m: 3, n: 7, k: 5 });
    expect(planMatMul([3, 5], [7, 5], false, true)).toMatchObject({ outShape: [3, 7], m: 3, n: 7, k: 5 });
    expect(planMatMul([5, 3], [7, 5], true, true)).toMatchObject({ outShape: [3, 7], m: 3, n: 7, k: 5 });
  });

  it('gives each product the blocks numpy broadcasting pairs it with', () => {
    // a [2, 1, 3, 4] (blocks of 12), b [3, 4, 5] (blocks of 20): out batch [2, 3].
    const p = planMatMul([2, 1, 3, 4], [3, 4, 5], false, false);
    expect(p.outShape).toEqual([2, 3, 3, 5]);
    expect([...p.aOffsets]).toEqual([0, 0, 0, 12, 12, 12]);
    expect([...p.bOffsets]).toEqual([0, 20, 40, 0, 20, 40]);
  });

  it('repeats a rank-2 operand for every batch of the other', () => {
    const p = planMatMul([4, 2, 3], [3, 6], false, false);
    expect(p.outShape).toEqual([4, 2, 6]);
    expect([...p.aOffsets]).toEqual([0, 6, 12, 18]);
    expect([...p.bOffsets]).toEqual([0, 0, 0, 0]);
  });

  it('refuses mismatched inner sizes and batch axes that do not broadcast', () => {
    expect(() => planMatMul([3, 5], [4, 7], false, false)).toThrow(/inner shapes \(5\) and \(4\)/);
    expect(() => planMatMul([2, 3, 5], [3, 5, 7], false, false)).toThrow(/could not be broadcast/);
    expect(() => planMatMul([5], [5, 7], false, false)).toThrow(/rank >= 2/);
  });
});
