import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // gradients
import { initBackend } from '../backend';
import { applyFastPath, restoreKernels } from './fast-path';
import { installLeanGradients, leanGradientsInstalled, uninstallLeanGradients } from './lean-gradients';

/** Runs `work` with the engine's own gradients and with the lean ones; returns both results. */
function both<T>(work: () => T): { lean: T; own: T } {
  uninstallLeanGradients();
  const own = work();
  installLeanGradients();
  const lean = work();
  return { lean, own };
}

/** Most data buffers (memory, whatever the number of tensors sharing them) alive at once while `work` runs. */
function peakBuffers(work: () => void): number {
  const engine = tf.engine() as unknown as { trackTensor: (...a: unknown[]) => unknown; state: { numDataBuffers: number } };
  const track = engine.trackTensor;
  let peak = 0;
  engine.trackTensor = function (this: unknown, ...a: unknown[]) {
    const r = track.apply(this, a);
    peak = Math.max(peak, engine.state.numDataBuffers);
    return r;
  };
  try {
    work();
  } finally {
    engine.trackTensor = track;
  }
  return peak;
}

const arrays = (ts: tf.Tensor[]) => ts.map((t) => Array.from(t.dataSync()));

describe.each(['cpu', 'wasm'] as const)('lean gradients on %s', (backend) => {
  // With the fast path's kernels even under BAYES_PEFT_FAST=0: the buffer counts assume clones
  // share memory (the wasm backend's own Identity copies).
  const savedFast = process.env.BAYES_PEFT_FAST;
  beforeAll(async () => {
    delete process.env.BAYES_PEFT_FAST;
    await initBackend(backend, () => {});
    applyFastPath(backend);
  });
  afterAll(() => {
    restoreKernels();
    if (savedFast !== undefined) process.env.BAYES_PEFT_FAST = savedFast;
  });

  it('gives exactly the engine\'s gradients: reused tensors, broadcasts, matmuls, several xs', () => {
    const before = tf.memory().numTensors;
    const { lean, own } = both(() =>
      tf.tidy(() => {
        const a = tf.tensor2d([0.3, -1.2, 2.0, 0.7, 1.1, -0.4], [2, 3]);
        const b = tf.tensor2d([0.5, 1.5, -2.5, 0.25, 1, -1], [3, 2]);
        const c = tf.tensor1d([0.1, -0.2]);
        const f = (x: tf.Tensor, w: tf.Tensor, v: tf.Tensor) => {
          const h = tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D);
          const g = tf.mul(tf.sigmoid(h), tf.add(h, v)); // h read twice, v broadcast
          return tf.sum(tf.square(tf.sub(g, tf.mean(g, 0))));
        };
        return arrays(tf.grads(f)([a, b, c]));
      }),
    );
    expect(lean).toEqual(own);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('variableGrads and a caller dy: same values, the caller\'s dy survives, nothing leaks', () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const dy = tf.tensor1d([1, -1, 0.5]);
    const before = tf.memory().numTensors;
    const { lean, own } = both(() =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.exp(v), v)) as tf.Scalar, [v]);
        const viaDy = tf.grad((x: tf.Tensor) => tf.mul(x, x))(v, dy);
        return [...arrays([grads[v.name]]), ...arrays([viaDy])];
      }),
    );
    expect(lean).toEqual(own);
    expect(dy.isDisposed).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([v, dy]);
  });

  it('second-order gradients still work (they use the engine\'s own pass)', () => {
    installLeanGradients();
    const g2 = tf.tidy(() => Array.from(tf.grad(tf.grad((x: tf.Tensor) => tf.pow(x, 3)))(tf.tensor1d([2, -1])).dataSync()));
    expect(g2).toEqual([12, -6]);
  });

  it('holds far fewer buffers at once on a long chain', () => {
    const chain = () =>
      tf.tidy(() => {
        const x = tf.variable(tf.fill([64], 0.5));
        const { grads } = tf.variableGrads(() => {
          let h: tf.Tensor = x;
          // One scope per step, as the decoder layers do, so the forward keeps only what the tape saved.
          for (let i = 0; i < 60; i++) h = tf.tidy(() => tf.sin(tf.mul(h, 1.01)));
          return tf.sum(h) as tf.Scalar;
        }, [x]);
        x.dispose();
        return grads[x.name];
      });
    uninstallLeanGradients();
    const own = peakBuffers(() => tf.dispose(chain()));
    installLeanGradients();
    expect(leanGradientsInstalled()).toBe(true);
    const lean = peakBuffers(() => tf.dispose(chain()));
    // The engine keeps every intermediate gradient and saved tensor to the end; lean frees them as it goes.
    console.log(`peak buffers: engine ${own}, lean ${lean}`);
    expect(lean).toBeLessThan(own * 0.75);
    expect(lean).toBeGreaterThan(0);
  });
});

describe('lean gradients leave alone what existed before the backward pass', () => {
  afterAll(() => uninstallLeanGradients());

  it('a gradient function that returns an outside tensor as is does not free it', async () => {
    await initBackend('cpu', () => {});
    installLeanGradients();
    const outside = tf.tensor1d([7, 8]);
    // d/dx of this op is `outside`, returned as is (no new tensor).
    const op = tf.customGrad(((x: tf.Tensor) => ({ value: tf.mul(x, outside), gradFunc: () => outside })) as unknown as Parameters<typeof tf.customGrad>[0]);
    const before = tf.memory().numTensors;
    // x feeds the op twice, so `outside` is added into a running sum and then no longer held.
    const g = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => tf.sum(tf.add(op(x) as tf.Tensor, op(x) as tf.Tensor)))(tf.tensor1d([1, 2])).dataSync()));
    expect(g).toEqual([14, 16]);
    expect(outside.isDisposed).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    outside.dispose();
  });
});
