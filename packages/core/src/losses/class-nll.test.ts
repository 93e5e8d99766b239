import { tf } from '@bayes-peft/tensor';
import { classAccuracy, classNll } from './class-nll';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('classNll / classAccuracy', () => {
  it('is the batch mean of -log softmax(logits)[label], computed by hand', () => {
    const rows = [
      [2, 0, -1],
      [0.5, 0.5, 3],
    ];
    const labels = [0, 1];
    const want =
      rows.map((r, i) => -(r[labels[i]] - Math.log(r.reduce((s, z) => s + Math.exp(z), 0)))).reduce((a, b) => a + b, 0) / rows.length;
    const before = tf.memory().numTensors;
    const logits = tf.tensor2d(rows);
    const y = tf.tensor1d(labels, 'int32');
    const nll = classNll(logits, y);
    expect(nll.dataSync()[0]).toBeCloseTo(want, 5);
    expect(classAccuracy(logits, y)).toBe(0.5); // row 0 right (argmax 0), row 1 wrong (argmax 2)
    tf.dispose([logits, y, nll]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
