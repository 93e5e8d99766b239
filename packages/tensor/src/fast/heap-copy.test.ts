import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // gradients
import { initBackend } from '../backend';
import { applyFastPath, isFastKernel, restoreKernels } from './fast-path';

/** The same work with the in-heap kernels and with the backend's own: values, shapes and dtypes must agree exactly. */
function both<T>(work: () => T): { fast: T; plain: T } {
  const fast = work();
  restoreKernels();
  const plain = work();
  applyFastPath('wasm');
  return { fast, plain };
}

const values = (t: tf.Tensor) => ({ shape: t.shape, dtype: t.dtype, data: Array.from(t.dataSync()) });

describe('in-heap Slice and GatherV2 on wasm', () => {
  // These tests compare the kernels themselves, so they switch them on even under BAYES_PEFT_FAST=0.
  const savedFast = process.env.BAYES_PEFT_FAST;
  beforeAll(async () => {
    delete process.env.BAYES_PEFT_FAST;
    await initBackend('wasm', () => {});
    applyFastPath('wasm');
    expect(isFastKernel(tf.Slice, 'wasm')).toBe(true);
    expect(isFastKernel(tf.GatherV2, 'wasm')).toBe(true);
  });
  afterAll(() => {
    restoreKernels();
    if (savedFast !== undefined) process.env.BAYES_PEFT_FAST = savedFast;
  });

  const SLICES: Array<[number[], number[], number[]]> = [
    [[4, 128, 16], [0, 127, 0], [4, 1, 16]], // the last position
    [[3, 5, 4, 6], [1, 2, 0, 3], [2, 3, 4, 3]],
    [[3, 5, 4, 6], [0, 0, 1, 0], [3, 5, 2, 6]],
    [[7], [2], [4]],
    [[2, 3], [0, 0], [2, 3]],
    [[2, 3], [1, 3], [1, 0]],
    [[5, 1, 7], [4, 0, 6], [1, 1, 1]],
  ];

  it.each(SLICES)('slices %j at %j size %j like the backend, for float32, int32 and bool', (shape, begin, size) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const before = tf.memory().numTensors;
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      const data = Array.from({ length: n }, (_, i) => (dtype === 'bool' ? Number(i % 3 === 0) : i * 0.5 - 7));
      const { fast, plain } = both(() => tf.tidy(() => values(tf.slice(tf.tensor(data, shape, dtype), begin, size))));
      expect(fast).toEqual(plain);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  const GATHERS: Array<[number[], number[], number[], number]> = [
    [[10, 4], [3, 0, 9, 3], [4], 0], // embedding rows
    [[4, 10], [3, 0, 9, 3], [2, 2], 1], // columns of a kernel, 2-D ids
    [[3, 6, 2], [5, 1], [2], 1],
    [[3, 6, 2], [1, 0, 1], [3], 2],
    [[6], [2, 2, 5], [3], 0],
  ];

  it.each(GATHERS)('gathers from %j ids %j (shape %j) on axis %d like the backend', (shape, ids, idShape, axis) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const before = tf.memory().numTensors;
    for (const dtype of ['float32', 'int32'] as const) {
      const data = Array.from({ length: n }, (_, i) => i * 1.5 - 3);
      const { fast, plain } = both(() => tf.tidy(() => values(tf.gather(tf.tensor(data, shape, dtype), tf.tensor(ids, idShape, 'int32'), axis))));
      expect(fast).toEqual(plain);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses an index outside the axis', () => {
    expect(() => tf.tidy(() => tf.gather(tf.tensor2d([[1, 2]]), tf.tensor1d([2], 'int32'), 1))).toThrow(/index value 2 is not in \[0, 1\]/);
  });

  it('slice gradients (pads) agree', () => {
    const { fast, plain } = both(() =>
      tf.tidy(() => {
        const x = tf.tensor3d(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
        return Array.from(tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.slice(t, [0, 1, 1], [2, 2, 2]))))(x).dataSync());
      }),
    );
    expect(fast).toEqual(plain);
  });
});
