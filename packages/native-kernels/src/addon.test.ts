import { loadNativeKernels } from './index';

const load = loadNativeKernels();
const describeBuilt = load.ok ? describe : describe.skip;
if (!load.ok) process.stderr.write(`native-kernels tests skipped: ${load.reason}\n`);

describeBuilt('the OpenBLAS addon', () => {
  const k = load.ok ? load.kernels : (null as never);
  const at = (...xs: number[]) => new Int32Array(xs);

  it('multiplies with every transpose, at offsets, one product per batch entry', () => {
    // A = [[1, 2], [3, 4]] stored at offset 1; B = [[5, 6], [7, 8]] at offset 0.
    const a = new Float32Array([9, 1, 2, 3, 4]);
    const b = new Float32Array([5, 6, 7, 8]);
    const c = new Float32Array(10).fill(-1);
    k.matmul(a, at(1), b, at(0), c, 1, 2, 2, 2, false, false);
    expect([...c.slice(1, 5)]).toEqual([19, 22, 43, 50]);
    k.matmul(a, at(1), b, at(0), c, 0, 2, 2, 2, true, true); // A^T B^T = (B A)^T
    expect([...c.slice(0, 4)]).toEqual([23, 31, 34, 46]);
    // Two products sharing B (broadcast), written one after the other.
    k.matmul(a, at(1, 1), b, at(0, 0), c, 2, 2, 2, 2, false, true);
    expect([...c.slice(2, 10)]).toEqual([17, 23, 39, 53, 17, 23, 39, 53]);
    expect(c[0]).toBe(23); // left alone
  });

  it('writes zeros for an empty inner dimension', () => {
    const c = new Float32Array(4).fill(7);
    k.matmul(new Float32Array(0), at(0), new Float32Array(0), at(0), c, 0, 2, 2, 0, false, false);
    expect([...c]).toEqual([0, 0, 0, 0]);
  });

  it('refuses ranges outside the arrays instead of reading past them', () => {
    const a = new Float32Array(4);
    expect(() => k.matmul(a, at(1), a, at(0), new Float32Array(4), 0, 2, 2, 2, false, false)).toThrow(/outside its array/);
    expect(() => k.matmul(a, at(0), a, at(0), new Float32Array(3), 0, 2, 2, 2, false, false)).toThrow(/out of range/);
    expect(() => k.matmul(a, at(0, 0), a, at(0), new Float32Array(8), 0, 2, 2, 2, false, false)).toThrow(/out of range/);
    expect(() => k.matmul(a as unknown as Float32Array, new Float32Array(1) as unknown as Int32Array, a, at(0), a, 0, 2, 2, 2, false, false)).toThrow(/bad argument types/);
  });

  it('reports its BLAS and takes a thread count', () => {
    k.setThreads(1);
    expect(k.info()).toEqual({
      blas: expect.stringMatching(/^OpenBLAS \d/),
      threads: 1,
      widening: expect.stringMatching(/^(avx2\+f16c|avx2|f16c|portable)$/),
    });
    expect(() => k.setThreads(0)).toThrow(/positive integer/);
  });
});
