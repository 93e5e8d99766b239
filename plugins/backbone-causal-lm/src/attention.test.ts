import { tf } from '@bayes-peft/tensor';
import { attend, causalBias, hostBias, MASK_VALUE } from './attention';
import { useWasm } from './shared.test-support';

beforeAll(useWasm);

describe('attention bias', () => {
  const mask = [
    [0, 0, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1],
  ];

  it('masks the future, the padding and (with a window) the distant past, the same on device and host', () => {
    for (const window of [null, 2]) {
      const device = tf.tidy(() => causalBias(tf.tensor2d(mask, [2, 6], 'int32'), window).arraySync());
      const host = tf.tidy(() => hostBias(mask, 6, window).arraySync());
      expect(device.flat(3).map((x) => x === 0)).toEqual(host.flat(3).map((x) => x === 0));
      const row = (b: number, i: number) => device[b][0][i].map((x) => (x === 0 ? 1 : 0));
      expect(row(0, 4)).toEqual(window === null ? [0, 0, 1, 1, 1, 0] : [0, 0, 0, 1, 1, 0]);
      expect(row(1, 5)).toEqual(window === null ? [1, 1, 1, 1, 1, 1] : [0, 0, 0, 0, 1, 1]);
      expect(row(0, 0)).toEqual([0, 0, 0, 0, 0, 0]); // a padding query sees nothing...
      expect(Math.min(...device.flat(3))).toBe(MASK_VALUE); // ...through a finite bias
    }
    // Incremental decoding: the one query is the last key.
    const step = tf.tidy(() => hostBias(mask, 1, null).arraySync());
    expect(step[0][0][0].map((x) => (x === 0 ? 1 : 0))).toEqual(mask[0]);
  });
});

describe('attend', () => {
  it('equals attention with each KV head repeated for its query group', () => {
    const [b, t, h, kv, d] = [2, 3, 4, 2, 5];
    tf.tidy(() => {
      const q = tf.randomNormal([b, t, h, d], 0, 1, 'float32', 1) as tf.Tensor4D;
      const k = tf.randomNormal([b, kv, t, d], 0, 1, 'float32', 2) as tf.Tensor4D;
      const v = tf.randomNormal([b, kv, t, d], 0, 1, 'float32', 3) as tf.Tensor4D;
      const bias = causalBias(tf.ones([b, t], 'int32') as tf.Tensor2D, null);
      const got = attend(q, k, v, bias);
      // transformers' repeat_kv: query head j reads KV head floor(j / (h / kv)).
      const rep = (x: tf.Tensor4D) => tf.reshape(tf.tile(tf.expandDims(x, 2), [1, 1, h / kv, 1, 1]), [b, h, t, d]);
      const scores = tf.add(tf.matMul(tf.transpose(q, [0, 2, 1, 3]), rep(k), false, true), bias);
      const want = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), rep(v)), [0, 2, 1, 3]), [b, t, h * d]);
      expect(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]).toBeLessThan(1e-6);
    });
  });
});
