import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // gradients
import { initBackend } from '../backend';
import { applyFastPath, isFastKernel, restoreKernels } from './fast-path';

describe('zero-copy Identity and Cast on wasm', () => {
  // These tests compare the kernels themselves, so they switch them on even under BAYES_PEFT_FAST=0.
  const savedFast = process.env.BAYES_PEFT_FAST;
  beforeAll(async () => {
    delete process.env.BAYES_PEFT_FAST;
    await initBackend('wasm', () => {});
    applyFastPath('wasm');
    expect(isFastKernel(tf.Identity, 'wasm')).toBe(true);
    expect(isFastKernel(tf.Cast, 'wasm')).toBe(true);
  });
  afterAll(() => {
    restoreKernels();
    if (savedFast !== undefined) process.env.BAYES_PEFT_FAST = savedFast;
  });

  it('a clone shares its memory, yet outlives the original and reads the same values', () => {
    const before = tf.memory();
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    const z = tf.cast(x, 'float32');
    // One buffer for three tensors.
    expect(tf.memory().numTensors).toBe(before.numTensors + 3);
    expect(y.dataId).toBe(x.dataId);
    expect(z.dataId).toBe(x.dataId);
    x.dispose();
    expect(y.dataSync()).toEqual(new Float32Array([1, 2, 3]));
    y.dispose();
    expect(z.dataSync()).toEqual(new Float32Array([1, 2, 3]));
    z.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });

  it('a real conversion still converts', () => {
    const got = tf.tidy(() => tf.cast(tf.tensor1d([1.7, -2.2, 0]), 'int32').dataSync().slice());
    expect(got).toEqual(new Int32Array([1, -2, 0]));
  });

  it('gradients through Multiply and Cast are those of the copying kernels', () => {
    const f = () =>
      tf.tidy(() => {
        const a = tf.tensor2d([0.5, -1, 2, 3], [2, 2]);
        const b = tf.tensor2d([4, 0.25, -3, 1], [2, 2]);
        const g = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.cast(tf.mul(p, q), 'float32'), p)))([a, b]);
        return g.map((t) => t.dataSync().slice());
      });
    const before = tf.memory().numTensors;
    const fast = f();
    restoreKernels();
    const plain = f();
    applyFastPath('wasm');
    expect(fast).toEqual(plain);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('variables assigned from a clone keep their own value when the clone goes', () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    const c = tf.clone(v);
    v.assign(tf.tensor1d([5, 6]));
    expect(c.dataSync()).toEqual(new Float32Array([1, 2]));
    c.dispose();
    expect(v.dataSync()).toEqual(new Float32Array([5, 6]));
    v.dispose();
  });
});
