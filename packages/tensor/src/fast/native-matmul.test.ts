import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // gradients
import { loadNativeKernels } from '@bayes-peft/native-kernels';
import { initBackend } from '../backend';
import { applyFastPath, isFastKernel, restoreKernels, type FastBackend } from './fast-path';
import { relError, uniform } from '../numeric.test-support';

const native = loadNativeKernels();
const describeNative = native.ok ? describe : describe.skip;
if (!native.ok) process.stderr.write(`native-matmul parity tests skipped: ${native.reason}\n`);

/** op(A) op(B) in float64 on the host, with numpy broadcasting of the batch axes, for the cases planMatMul does not see. */
function reference(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], ta: boolean, tb: boolean): Float64Array {
  const t = tf.tidy(() => {
    const A = tf.tensor(a, aShape);
    const B = tf.tensor(b, bShape);
    return tf.matMul(A, B, ta, tb); // shape only
  });
  const outShape = t.shape;
  t.dispose();
  const m = outShape[outShape.length - 2];
  const n = outShape[outShape.length - 1];
  const k = ta ? aShape[aShape.length - 2] : aShape[aShape.length - 1];
  const batch = outShape.slice(0, -2);
  const count = batch.reduce((s, d) => s * d, 1);
  const out = new Float64Array(count * m * n);
  const blockOf = (shape: number[], idx: number[]) => {
    const dims = shape.slice(0, -2);
    let off = 0;
    for (let d = 0; d < dims.length; d++) {
      const i = idx[idx.length - dims.length + d];
      off = off * dims[d] + (dims[d] === 1 ? 0 : i);
    }
    return off;
  };
  const idx = new Array<number>(batch.length).fill(0);
  for (let q = 0; q < count; q++) {
    const ao = blockOf(aShape, idx) * m * k;
    const bo = blockOf(bShape, idx) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[ao + (ta ? p * m + i : i * k + p)] * b[bo + (tb ? j * k + p : p * n + j)];
        out[(q * m + i) * n + j] = s;
      }
    }
    for (let d = batch.length - 1; d >= 0; d--) {
      if (++idx[d] < batch[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Cases the plain tfjs kernels get wrong, so the native result is checked against float64 only:
 * both backends flatten the batch axes and broadcast only a whole side of batch size 1 (tfjs
 * 4.22), and wasm leaves a k = 0 product uninitialised instead of zero.
 */
const PLAIN_WRONG = new Set(['[2,1,5,4] [3,4,6]', '[1,3,5,4] [2,1,4,3]', 'wasm [4,0] [0,3]']);

/** [aShape, bShape, transposeA, transposeB]: transposes, batches, broadcasts, odd and degenerate sizes. */
const CASES: Array<[number[], number[], boolean, boolean]> = [
  [[7, 13], [13, 5], false, false],
  [[13, 7], [13, 5], true, false],
  [[7, 13], [5, 13], false, true],
  [[13, 7], [5, 13], true, true],
  [[1, 1], [1, 1], false, false],
  [[1, 33], [33, 1], false, false],
  [[3, 4, 9], [3, 9, 6], false, false],
  [[3, 9, 4], [3, 6, 9], true, true],
  [[2, 3, 17, 8], [2, 3, 17, 8], false, true], // attention scores Q K^T
  [[2, 3, 17, 17], [2, 3, 17, 8], true, false], // its gradient P^T dO
  [[2, 1, 5, 4], [3, 4, 6], false, false], // broadcast on both sides (float64 only, see PLAIN_WRONG)
  [[5, 4], [2, 3, 4, 6], false, false], // rank-2 left operand
  [[2, 3, 5, 4], [6, 4], false, true], // rank-2 right operand, transposed
  [[1, 3, 5, 4], [2, 1, 4, 3], false, false],
  [[65, 130], [130, 67], false, false], // past OpenBLAS' small-matrix paths
  [[130, 65], [67, 130], true, true],
  [[4, 0], [0, 3], false, false], // k = 0: zeros
  [[0, 5], [5, 3], false, false], // m = 0: empty
];

describeNative.each(['wasm', 'cpu'] as FastBackend[])('native BatchMatMul on %s', (backend) => {
  // These tests compare the kernels themselves, so they switch them on even under BAYES_PEFT_FAST=0.
  const savedFast = process.env.BAYES_PEFT_FAST;
  beforeAll(async () => {
    delete process.env.BAYES_PEFT_FAST;
    await initBackend(backend, () => {});
    applyFastPath(backend);
    expect(isFastKernel(tf.BatchMatMul, backend)).toBe(true);
  });
  afterAll(() => {
    restoreKernels();
    if (savedFast !== undefined) process.env.BAYES_PEFT_FAST = savedFast;
  });

  it.each(CASES)('matches the plain kernel and float64 within 1e-5: %j x %j (tA %s, tB %s)', (aShape, bShape, ta, tb) => {
    const aSize = aShape.reduce((s, d) => s * d, 1);
    const bSize = bShape.reduce((s, d) => s * d, 1);
    const a = uniform(aSize * 31 + 7, aSize);
    const b = uniform(bSize * 17 + 3, bSize);
    const before = tf.memory().numTensors;
    const run = () =>
      tf.tidy(() => {
        const y = tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), ta, tb);
        return { shape: y.shape, values: y.dataSync().slice() };
      });
    const fast = run();
    restoreKernels();
    const plain = run();
    applyFastPath(backend);
    expect(isFastKernel(tf.BatchMatMul, backend)).toBe(true);
    expect(fast.shape).toEqual(plain.shape);
    const exact = reference(a, aShape, b, bShape, ta, tb);
    expect(fast.values.length).toBe(exact.length);
    const key = `[${aShape}] [${bShape}]`;
    if (!PLAIN_WRONG.has(key) && !PLAIN_WRONG.has(`${backend} ${key}`)) expect(relError(fast.values, plain.values)).toBeLessThan(1e-5);
    expect(relError(fast.values, exact)).toBeLessThan(1e-5);
    if (exact.length > 0 && aSize > 0 && bSize > 0 && (ta ? aShape[aShape.length - 2] : aShape[aShape.length - 1]) === 0) {
      expect([...fast.values].every((v) => v === 0)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('matches float64, and the plain kernel where that one is right, on 40 seeded random shapes', () => {
    let seed = 12345;
    let againstPlain = 0;
    const rand = (lo: number, hi: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return lo + (seed % (hi - lo + 1));
    };
    for (let c = 0; c < 40; c++) {
      const batchRank = rand(0, 2);
      const batch = Array.from({ length: batchRank }, () => rand(1, 3));
      // Each side keeps an axis, sets it to 1 (broadcast) or drops leading axes.
      const side = () => {
        const dims = batch.map((d) => (rand(0, 3) === 0 ? 1 : d));
        return dims.slice(rand(0, dims.length));
      };
      const [m, n, k] = [rand(1, 37), rand(1, 37), rand(1, 37)];
      const ta = rand(0, 1) === 1;
      const tb = rand(0, 1) === 1;
      const aShape = [...side(), ...(ta ? [k, m] : [m, k])];
      const bShape = [...side(), ...(tb ? [n, k] : [k, n])];
      const aSize = aShape.reduce((x, y) => x * y, 1);
      const bSize = bShape.reduce((x, y) => x * y, 1);
      const a = uniform(c * 7919 + 1, aSize);
      const b = uniform(c * 104729 + 2, bSize);
      const run = () => tf.tidy(() => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), ta, tb).dataSync().slice());
      const fast = run();
      expect(relError(fast, reference(a, aShape, b, bShape, ta, tb))).toBeLessThan(1e-5);
      // The plain kernels flatten the batch axes: right when both sides have the same batch axes or one has none.
      const aBatch = aShape.slice(0, -2);
      const bBatch = bShape.slice(0, -2);
      const plainRight = tf.util.arraysEqual(aBatch, bBatch) || tf.util.sizeFromShape(aBatch) === 1 || tf.util.sizeFromShape(bBatch) === 1;
      if (plainRight && aBatch.length === bBatch.length) {
        restoreKernels();
        const plain = run();
        applyFastPath(backend);
        expect(relError(fast, plain)).toBeLessThan(1e-5);
        againstPlain++;
      }
    }
    expect(againstPlain).toBeGreaterThan(10);
  });

  it('gives the gradients of the plain kernel (the backward pass multiplies by transposed operands)', () => {
    const a = uniform(11, 2 * 3 * 9 * 5);
    const b = uniform(12, 2 * 3 * 7 * 5);
    const grads = () =>
      tf.tidy(() => {
        const A = tf.tensor(a, [2, 3, 9, 5]);
        const B = tf.tensor(b, [2, 3, 7, 5]); // tfjs' matMul gradient does not reduce broadcast batch axes
        const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, false, true))))([A, B]);
        return g.map((t) => t.dataSync().slice());
      });
    const before = tf.memory().numTensors;
    const fast = grads();
    restoreKernels();
    const plain = grads();
    applyFastPath(backend);
    for (let i = 0; i < 2; i++) expect(relError(fast[i], plain[i])).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('falls back to the plain kernel for int32 operands', () => {
    // The plain wasm kernel refuses int32 itself; the fallback passes its error on.
    if (backend === 'wasm') {
      expect(() => tf.tidy(() => tf.matMul(tf.tensor2d([[1]], [1, 1], 'int32'), tf.tensor2d([[1]], [1, 1], 'int32')))).toThrow(/non-float32/);
      return;
    }
    const y = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]], [1, 2], 'int32'), tf.tensor2d([[3], [4]], [2, 1], 'int32')).dataSync()[0]);
    expect(y).toBe(11);
  });

  it('reads operands that sit anywhere in memory (slices, many live tensors)', () => {
    const keep = Array.from({ length: 50 }, (_, i) => tf.fill([97 + i], i));
    try {
      const got = tf.tidy(() => {
        const big = tf.tensor(uniform(5, 40 * 33), [40, 33]);
        const x = tf.slice(big, [3, 0], [11, 33]);
        return tf.matMul(x, big, false, true).dataSync().slice();
      });
      restoreKernels();
      const want = tf.tidy(() => {
        const big = tf.tensor(uniform(5, 40 * 33), [40, 33]);
        return tf.matMul(tf.slice(big, [3, 0], [11, 33]), big, false, true).dataSync().slice();
      });
      applyFastPath(backend);
      expect(relError(got, want)).toBeLessThan(1e-5);
    } finally {
      tf.dispose(keep);
    }
  });
});

describe('applyFastPath', () => {
  const saved = process.env.BAYES_PEFT_FAST;
  afterEach(() => {
    if (saved === undefined) delete process.env.BAYES_PEFT_FAST;
    else process.env.BAYES_PEFT_FAST = saved;
    restoreKernels();
  });

  it('BAYES_PEFT_FAST=0 keeps the plain kernels and says so', async () => {
    await initBackend('cpu', () => {});
    process.env.BAYES_PEFT_FAST = '0';
    const choice = applyFastPath('cpu');
    expect(choice).toEqual({ enabled: false, kernels: [], line: 'fast path: off (BAYES_PEFT_FAST=0); plain cpu kernels' });
    expect(isFastKernel(tf.BatchMatMul, 'cpu')).toBe(false);
  });

  it('rejects a BAYES_PEFT_FAST that is not a flag, naming the variable', async () => {
    await initBackend('cpu', () => {});
    process.env.BAYES_PEFT_FAST = 'maybe';
    expect(() => applyFastPath('cpu')).toThrow("BAYES_PEFT_FAST='maybe' is not a flag (1, 0, true, false, yes, no, on, off)");
    process.env.BAYES_PEFT_FAST = 'off';
    expect(applyFastPath('cpu').line).toBe('fast path: off (BAYES_PEFT_FAST=off); plain cpu kernels');
  });

  (native.ok ? it : it.skip)('rejects a BAYES_PEFT_THREADS that is not a positive integer', async () => {
    await initBackend('cpu', () => {});
    delete process.env.BAYES_PEFT_FAST;
    const threads = process.env.BAYES_PEFT_THREADS;
    try {
      process.env.BAYES_PEFT_THREADS = 'abc';
      expect(() => applyFastPath('cpu')).toThrow("BAYES_PEFT_THREADS='abc' is not a positive integer");
      process.env.BAYES_PEFT_THREADS = '0';
      expect(() => applyFastPath('cpu')).toThrow("BAYES_PEFT_THREADS='0' is not a positive integer");
    } finally {
      if (threads === undefined) delete process.env.BAYES_PEFT_THREADS;
      else process.env.BAYES_PEFT_THREADS = threads;
    }
  });

  (native.ok ? it : it.skip)('names the native kernels, the BLAS and its threads', async () => {
    await initBackend('cpu', () => {});
    delete process.env.BAYES_PEFT_FAST;
    const choice = applyFastPath('cpu');
    expect(choice.enabled).toBe(true);
    expect(choice.kernels).toEqual(['BatchMatMul']);
    expect(choice.line).toMatch(/^fast path: native BatchMatMul on cpu \(OpenBLAS [\d.]+, 1 thread\); lean gradients; BAYES_PEFT_FAST=0 disables$/);
    restoreKernels();
    expect(isFastKernel(tf.BatchMatMul, 'cpu')).toBe(false);
  });
});
