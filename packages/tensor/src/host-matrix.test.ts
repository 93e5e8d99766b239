import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // gradients
import { loadNativeKernels } from '@bayes-peft/native-kernels';
import { initBackend } from './backend';
import { applyFastPath, restoreKernels } from './fast/fast-path';
import { frozenLinear, gatherHostRows, halfBitsToFloat, hostMatMul, hostMatrix, hostProductPath, widenRows, type HostFloatDtype, type HostMatrix } from './host-matrix';
import { relError, uniform } from './numeric.test-support';

const native = loadNativeKernels();
if (!native.ok && !process.env.CI) process.stderr.write(`host-matrix native-path checks skipped: ${native.reason}\n`);

/** float32 -> float16 bits, round to nearest even (values here are small and normal). */
function toHalfBits(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return sign; // flush (not reached by these values)
  let mant = u & 0x7fffff;
  let h = sign | (exp << 10) | (mant >>> 13);
  mant &= 0x1fff;
  if (mant > 0x1000 || (mant === 0x1000 && h & 1)) h++;
  return h;
}

/** A seeded matrix in `dtype` and the float32 values it stands for. */
function matrix(dtype: HostFloatDtype, rows: number, cols: number, seed: number): { m: HostMatrix; values: Float32Array } {
  const values = uniform(seed, rows * cols).map((v) => v * 0.5);
  if (dtype === 'F32') return { m: hostMatrix('w', dtype, [rows, cols], values), values };
  const bits = new Uint16Array(values.length);
  if (dtype === 'BF16') {
    const u = new Uint32Array(values.buffer);
    for (let i = 0; i < u.length; i++) bits[i] = u[i] >>> 16; // truncation: any bf16 value will do
  } else {
    for (let i = 0; i < values.length; i++) bits[i] = toHalfBits(values[i]);
  }
  const exact = new Float32Array(values.length);
  for (let i = 0; i < bits.length; i++) exact[i] = dtype === 'BF16' ? new Float32Array(new Uint32Array([bits[i] << 16]).buffer)[0] : halfBitsToFloat(bits[i]);
  return { m: hostMatrix('w', dtype, [rows, cols], bits), values: exact };
}

describe.each(['wasm', 'cpu'] as const)('host matrices on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend, () => undefined);
  });
  afterAll(() => restoreKernels());

  for (const path of ['native', 'upload'] as const) {
    describe(`${path} products`, () => {
      beforeAll(() => {
        if (path === 'upload') restoreKernels();
        else applyFastPath(backend);
      });
      it('takes the path it says', () => {
        // BAYES_PEFT_FAST=0 (CI's second pass) keeps the native kernels off: products upload.
        const nativeOn = native.ok && !/^(0|false|off)$/.test(process.env.BAYES_PEFT_FAST ?? '');
        expect(hostProductPath()).toBe(path === 'native' && nativeOn ? 'native' : 'upload');
      });

      it.each(['F32', 'BF16', 'F16'] as const)('%s: x W^T, its gradient dy W, and rows equal float32 tensors of the widened values', (dtype) => {
        // 700 rows: more than one tile of the native kernel.
        const [m, n, k] = [5, 700, 67];
        const { m: w, values } = matrix(dtype, n, k, 3);
        expect(widenRows(w)).toEqual(values);
        const x = tf.tensor2d(uniform(7, m * k), [m, k]);
        const r = tf.tensor2d(uniform(9, m * n), [m, n]);
        const dense = tf.tensor2d(values, [n, k]);
        const before = tf.memory().numTensors;
        const f = frozenLinear(w);
        const got = tf.tidy(() => {
          const { value, grads } = tf.valueAndGrads((xx: tf.Tensor) => tf.sum(tf.mul(f(xx as tf.Tensor2D), r)))([x]);
          return [value, grads[0], hostMatMul(r, w, 'xW'), gatherHostRows(w, [3, 0, 3, n - 1])];
        });
        const want = tf.tidy(() => {
          const { value, grads } = tf.valueAndGrads((xx: tf.Tensor) => tf.sum(tf.mul(tf.matMul(xx as tf.Tensor2D, dense, false, true), r)))([x]);
          return [value, grads[0], tf.matMul(r, dense), tf.gather(dense, [3, 0, 3, n - 1])];
        });
        const y = tf.tidy(() => f(x));
        const yRef = tf.tidy(() => tf.matMul(x, dense, false, true));
        expect(relError(y.dataSync(), yRef.dataSync())).toBeLessThan(1e-6);
        expect(relError(got[0].dataSync(), want[0].dataSync())).toBeLessThan(1e-5);
        expect(relError(got[1].dataSync(), want[1].dataSync())).toBeLessThan(1e-5);
        expect(relError(got[2].dataSync(), want[2].dataSync())).toBeLessThan(1e-5);
        expect(Array.from(got[3].dataSync())).toEqual(Array.from(want[3].dataSync()));
        tf.dispose([...got, ...want, y, yRef]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([x, r, dense]);
      });
    });
  }

  it('float32 host products equal the device product bit for bit', () => {
    applyFastPath(backend);
    const { m: w, values } = matrix('F32', 33, 17, 11);
    const x = tf.tensor2d(uniform(13, 4 * 17), [4, 17]);
    const dense = tf.tensor2d(values, [33, 17]);
    const a = hostMatMul(x, w, 'xWt');
    const b = tf.matMul(x, dense, false, true);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([x, dense, a, b]);
  });
});

describe('hostMatrix', () => {
  it('rejects data that does not fit its dtype or shape', () => {
    expect(() => hostMatrix('m', 'BF16', [2, 3], new Float32Array(6))).toThrow("m: BF16 data must be a Uint16Array, got Float32Array");
    expect(() => hostMatrix('m', 'F32', [2, 3], new Float32Array(5))).toThrow('m: shape [2, 3] needs 6 elements, got 5');
    expect(() => hostMatrix('m', 'F32', [6], new Float32Array(6))).toThrow('m: a host matrix is 2-D, got shape [6]');
  });

  it('names the matrix when a row is out of range or x does not fit', async () => {
    await initBackend('cpu', () => undefined);
    const { m } = matrix('BF16', 4, 3, 1);
    expect(() => widenRows(m, [4])).toThrow('w: row 4 is outside [0, 4)');
    const x = tf.zeros([2, 5]) as tf.Tensor2D;
    expect(() => hostMatMul(x, m, 'xWt')).toThrow(/w: x \[2,5\] does not fit W \[4, 3\]|Incompatible|inner/);
    x.dispose();
  });

  it('widens float16 special values exactly', () => {
    const bits = new Uint16Array([0x0000, 0x8000, 0x0001, 0x03ff, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x3c00]);
    const out = widenRows(hostMatrix('h', 'F16', [1, bits.length], bits));
    expect(Array.from(out.slice(0, 7))).toEqual([0, -0, 2 ** -24, 1023 * 2 ** -24, 65504, Infinity, -Infinity]);
    expect(Number.isNaN(out[7])).toBe(true);
    expect(out[8]).toBe(1);
  });
});
