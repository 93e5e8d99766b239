import { tf } from '@bayes-peft/tensor';
import { Rng, type AnswerBatch, type ForwardOptions, type TokenBatch } from '@bayes-peft/core';
import { setupTestBackend } from '@bayes-peft/testing-backbone';
import { anchorCriterion, answerPass, type AnchorPass } from './anchor-pass';
import { answerNllCriterion, changedClassRatio, changedTokenRatio, nllCriterion } from './tfb-math';

beforeAll(setupTestBackend);

const softmax = (row: number[]) => {
  const e = row.map(Math.exp);
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

// One text of T = 4 positions over V = 3 tokens; positions 1 and 2 are scored (targets 2 and 0).
const Z = [
  // weight sample 0
  [
    [0, 0, 0],
    [1, 0, 2],
    [0.5, 0, -1],
    [0, 0, 0],
  ],
  // weight sample 1
  [
    [0, 0, 0],
    [3, 0, 0],
    [-1, 2, 0],
    [0, 0, 0],
  ],
];
const TARGETS = [0, 2, 0, 0];
const WEIGHTS = [0, 1, 1, 0];

describe('answerPass', () => {
  it("averages the samples' softmax at the answer tokens: the true token's probability and the argmax, by hand", async () => {
    const calls: (number | undefined)[] = [];
    const backbone = {
      forward(_b: TokenBatch, o: ForwardOptions) {
        expect(o.output).toBe('all');
        calls.push(o.ctx.sample);
        return tf.tensor3d([Z[o.ctx.sample ?? 0]]);
      },
    };
    const batch: AnswerBatch = {
      kind: 'answer',
      ids: ['t'],
      tokens: { inputIds: tf.zeros([1, 4], 'int32') as tf.Tensor2D, attentionMask: tf.ones([1, 4], 'int32') as tf.Tensor2D },
      targets: tf.tensor2d([TARGETS], [1, 4], 'int32'),
      weights: tf.tensor2d([WEIGHTS], [1, 4], 'float32'),
    };
    const before = tf.memory().numTensors;
    const ctx = { training: false, rng: new Rng(0) };
    const got = await answerPass(backbone, batch, 2, () => ctx);
    expect(calls).toEqual([0, 1]);
    const mean = [1, 2].map((t) => softmax(Z[0][t]).map((p, k) => (p + softmax(Z[1][t])[k]) / 2));
    expect(got.targetProbs[0]).toBeCloseTo(mean[0][2], 6);
    expect(got.targetProbs[1]).toBeCloseTo(mean[1][0], 6);
    // position 1: mean of (.24, .09, .67) and (.91, .05, .05) -> token 0; position 2: of (.55, .33, .12) and (.04, .84, .11) -> token 1
    expect(got.argmax).toEqual([0, 1]);
    expect(mean[0][0]).toBeGreaterThan(mean[0][2]);
    // one sample: that sample's own probabilities
    const one = await answerPass(backbone, batch, 1, () => ctx);
    expect(one.targetProbs[0]).toBeCloseTo(softmax(Z[0][1])[2], 6);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([batch.tokens.inputIds, batch.tokens.attentionMask, batch.targets, batch.weights]);
  });
});

describe('anchorCriterion', () => {
  it('applies the multiple-choice criteria against y0 = argmax p0, and the answer-token ones against the true tokens', () => {
    const p0 = [
      [0.7, 0.3],
      [0.2, 0.8],
    ];
    const p = [
      [0.4, 0.6],
      [0.3, 0.7],
    ];
    const mcq = (probs: number[][]): AnchorPass => ({ kind: 'mcq', examples: 2, probs });
    expect(anchorCriterion('nll', mcq(p0), mcq(p), 2)).toBe(nllCriterion(p0, p, [0, 1], 2));
    expect(anchorCriterion('accuracy', mcq(p0), mcq(p))).toBe(changedClassRatio(p, [0, 1]));
    const ans = (targetProbs: number[], argmax: number[]): AnchorPass => ({ kind: 'answer', examples: 1, targetProbs, argmax });
    expect(anchorCriterion('nll', ans([0.5, 0.9], [3, 4]), ans([0.25, 0.9], [3, 5]))).toBe(answerNllCriterion([0.5, 0.9], [0.25, 0.9]));
    expect(anchorCriterion('accuracy', ans([0.5, 0.9], [3, 4]), ans([0.25, 0.9], [3, 5]))).toBe(changedTokenRatio([3, 5], [3, 4]));
    expect(() => anchorCriterion('nll', mcq(p0), ans([0.5], [1]))).toThrow(/differ in kind/);
  });
});
