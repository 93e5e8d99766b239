import { tf } from '@bayes-peft/tensor';
import type { McqBatch, McqExample, Wrapper } from '@bayes-peft/core';
import { evaluateMcq } from './evaluate';
import { charBackbone } from './char-backbone.test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const backbone = charBackbone;

const examples: McqExample[] = ['e0', 'e1', 'e2', 'e3', 'e4'].map((id, i) => ({ id, prompt: 'x'.repeat(i + 1), label: i % 2 }));

// Two weight samples per example. Sampled (probability-averaged) argmax: e0 -> 0, e1 -> 1,
// e2 -> 1 (the samples disagree; mean probs [0.45, 0.55]), e3 -> 0, e4 -> 1.
const SAMPLED: Record<string, number[][]> = {
  e0: [[2, 0], [1, 0]],
  e1: [[0, 2], [0, 1]],
  e2: [[Math.log(0.8), Math.log(0.2)], [Math.log(0.1), Math.log(0.9)]],
  e3: [[3, 0], [3, 0]],
  e4: [[0, 1], [0, 1]],
};
// Posterior-mean argmax: e0 -> 0, e1 -> 1, e2 -> 0 (flips), e3 -> 1 (flips), e4 -> 1: 2 of 5.
const MEAN: Record<string, number[]> = { e0: [1, 0], e1: [0, 1], e2: [0.2, 0.1], e3: [0, 0.5], e4: [-1, 1] };

function fakeWrapper(withMean: boolean, calls: { mean: number }): Wrapper {
  return {
    name: 'fake',
    averaging: 'probs',
    async predict(batch: McqBatch) {
      return tf.tensor3d(batch.ids.map((id) => SAMPLED[id]));
    },
    ...(withMean
      ? {
          async predictMean(batch: McqBatch) {
            calls.mean++;
            return tf.tensor2d(batch.ids.map((id) => MEAN[id]));
          },
        }
      : {}),
  } as unknown as Wrapper;
}

const args = { backbone, examples, targetIds: [1, 2], batchSize: 2, maxSeqLen: 16, bins: 10 };

describe('evaluateMcq and val_flip_ratio', () => {
  it('the final evaluation of a wrapper with a posterior mean reports the share of flipped decisions (2 of 5), one mean pass per batch, no leak', async () => {
    const calls = { mean: 0 };
    const before = tf.memory().numTensors;
    const { metrics, records } = await evaluateMcq({ ...args, wrapper: fakeWrapper(true, calls), phase: 'final' });
    expect(tf.memory().numTensors).toBe(before);
    expect(metrics.val_flip_ratio).toBeCloseTo(2 / 5, 15);
    expect(calls.mean).toBe(3); // batches of 2, 2, 1
    // The sampled metrics are computed from predict alone: e2's mean probs are [0.45, 0.55].
    expect(records[2].probs[1]).toBeCloseTo(0.55, 6); // float32 logits
    expect(metrics.acc).toBeCloseTo(2 / 5, 15); // labels 0 1 0 1 0 vs sampled 0 1 1 0 1: e0, e1 right
  });

  it('intermediate evaluations, and wrappers without predictMean, have no val_flip_ratio and make no mean pass', async () => {
    const calls = { mean: 0 };
    const intermediate = await evaluateMcq({ ...args, wrapper: fakeWrapper(true, calls), phase: 'intermediate' });
    expect(intermediate.metrics).not.toHaveProperty('val_flip_ratio');
    expect(calls.mean).toBe(0);
    const plain = await evaluateMcq({ ...args, wrapper: fakeWrapper(false, calls), phase: 'final' });
    expect(plain.metrics).not.toHaveProperty('val_flip_ratio');
    expect(plain.metrics.acc).toBe(intermediate.metrics.acc);
  });
});
