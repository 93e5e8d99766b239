import { classNll, tf } from '@bayes-peft/lora';
import { smoothedNll } from './loss';

describe('smoothedNll', () => {
  const logits = () => tf.tensor2d([[2, 0, -1, 0.5], [0, 1, 0, -2]]);
  const labels = () => tf.tensor1d([0, 3], 'int32');

  it('is the class NLL without smoothing, and mixes in the uniform cross-entropy with it', () => {
    const before = tf.memory().numTensors;
    const [l, y] = [logits(), labels()];
    // Each loss read back to the host inside a tidy, so its tensors are freed.
    const host = (f: () => tf.Tensor) => tf.tidy(() => f().dataSync()[0]);
    const nll = host(() => classNll(l, y));
    // Cross-entropy to the uniform target, computed on the host from the logits.
    const rows = l.arraySync();
    const uniform = rows.reduce((s, row) => {
      const lse = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
      return s + row.reduce((a, v) => a + (lse - v), 0) / row.length;
    }, 0) / rows.length;
    expect(host(() => smoothedNll(l, y, 0))).toBe(nll);
    expect(host(() => smoothedNll(l, y, 0.2))).toBeCloseTo(0.8 * nll + 0.2 * uniform, 5);
    expect(host(() => smoothedNll(l, y, 1))).toBeCloseTo(uniform, 5);
    tf.dispose([l, y]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
