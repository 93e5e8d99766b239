import { tf } from '@bayes-peft/tensor';
import type { ForwardOptions, TokenBatch } from '../contracts/backbone';
import type { AnswerBatch, McqBatch } from '../contracts/wrapper';
import { Rng } from '../rng';
import { trainObjective } from './train-objective';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const ctx = { training: true, rng: new Rng(0) };
const logSoftmaxAt = (row: number[], k: number) => row[k] - Math.log(row.reduce((s, z) => s + Math.exp(z), 0));
const softmax = (row: number[]) => {
  const e = row.map(Math.exp);
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

/** A backbone whose forward returns fixed logits and records the options it was called with. */
function stubBackbone(logits: number[][][] | number[][]) {
  const calls: ForwardOptions[] = [];
  return {
    calls,
    forward(_batch: TokenBatch, options: ForwardOptions) {
      calls.push(options);
      return tf.tensor(logits);
    },
  };
}

function tokens(B: number, T: number): TokenBatch {
  return { inputIds: tf.zeros([B, T], 'int32') as tf.Tensor2D, attentionMask: tf.ones([B, T], 'int32') as tf.Tensor2D };
}

// B = 2 texts of T = 3 positions over a vocabulary of 4.
const Z = [
  [
    [0.5, 1, -1, 2],
    [2, 0, 0, -1],
    [0, 0, 3, 0],
  ],
  [
    [1, 2, 3, 4],
    [0, -2, 1, 0.5],
    [1, 1, 1, 1],
  ],
];
const TARGETS = [
  [0, 2, 0],
  [3, 0, 0],
];
// Scored: (0, 1) -> 2, (1, 0) -> 3, (1, 1) -> 0; the rest (a prompt position, the last positions) are not.
const WEIGHTS = [
  [0, 1, 0],
  [1, 1, 0],
];
const SCORED: [number, number][] = [
  [0, 1],
  [1, 0],
  [1, 1],
];

function answerBatch(overrides: Partial<AnswerBatch> = {}): AnswerBatch {
  return {
    kind: 'answer',
    ids: ['a', 'b'],
    tokens: tokens(2, 3),
    targets: tf.tensor2d(TARGETS, [2, 3], 'int32'),
    weights: tf.tensor2d(WEIGHTS, [2, 3], 'float32'),
    ...overrides,
  };
}

function disposeAnswer(b: AnswerBatch) {
  tf.dispose([b.tokens.inputIds, b.tokens.attentionMask, b.targets, b.weights]);
}

describe('trainObjective: answer batches', () => {
  it('is the mean over the scored tokens of -log softmax(logits)[target], from every position of the forward', () => {
    const batch = answerBatch();
    const bb = stubBackbone(Z);
    const before = tf.memory().numTensors;
    const obj = trainObjective(bb, batch);
    expect(obj.kind).toBe('answer');
    expect(obj.rows).toBe(3);
    const want = -SCORED.reduce((s, [b, t]) => s + logSoftmaxAt(Z[b][t], TARGETS[b][t]), 0) / SCORED.length;
    const out = obj.forward(ctx);
    expect(bb.calls[0]).toEqual({ output: 'all', ctx });
    const nll = obj.nll(out);
    expect(nll.dataSync()[0]).toBeCloseTo(want, 5);
    // argmax of the scored rows: (0,1) -> 0 (target 2: wrong), (1,0) -> 3 (right), (1,1) -> 2 (target 0: wrong)
    expect(obj.accuracy(out)).toBeCloseTo(1 / 3, 6);
    tf.dispose([out, nll]);
    expect(tf.memory().numTensors).toBe(before);
    disposeAnswer(batch);
  });

  it('weights tokens, not texts: a text with two answer tokens counts twice', () => {
    const batch = answerBatch();
    const obj = trainObjective(stubBackbone(Z), batch);
    const perText = [
      -logSoftmaxAt(Z[0][1], 2),
      -(logSoftmaxAt(Z[1][0], 3) + logSoftmaxAt(Z[1][1], 0)) / 2,
    ];
    const got = tf.tidy(() => obj.nll(obj.forward(ctx)).dataSync()[0]);
    expect(got).not.toBeCloseTo((perText[0] + perText[1]) / 2, 3);
    expect(got).toBeCloseTo((perText[0] + 2 * perText[1]) / 3, 5);
    disposeAnswer(batch);
  });

  it('passes gradients through the selection of scored rows: (softmax - onehot) / N on scored positions, 0 elsewhere', () => {
    const batch = answerBatch();
    const obj = trainObjective(stubBackbone(Z), batch);
    const z = tf.tensor3d(Z);
    const g = tf.grad((x: tf.Tensor) => obj.nll(x))(z);
    const got = g.arraySync() as number[][][];
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 3; t++) {
        const scored = WEIGHTS[b][t] === 1;
        const p = softmax(Z[b][t]);
        for (let v = 0; v < 4; v++) {
          const want = scored ? (p[v] - (v === TARGETS[b][t] ? 1 : 0)) / SCORED.length : 0;
          expect(got[b][t][v]).toBeCloseTo(want, 6);
        }
      }
    }
    tf.dispose([z, g]);
    disposeAnswer(batch);
  });

  it("scores the mean of several passes' logits (same shape per kind), as BLoB's weight-sample mean does", () => {
    const batch = answerBatch();
    const obj = trainObjective(stubBackbone(Z), batch);
    const shifted = Z.map((r) => r.map((row) => row.map((v, k) => v + k * 0.5)));
    const mean = Z.map((r, b) => r.map((row, t) => row.map((v, k) => (v + shifted[b][t][k]) / 2)));
    const want = -SCORED.reduce((s, [b, t]) => s + logSoftmaxAt(mean[b][t], TARGETS[b][t]), 0) / SCORED.length;
    const got = tf.tidy(() => obj.nll(tf.div(tf.add(tf.tensor3d(Z), tf.tensor3d(shifted)), 2)).dataSync()[0]);
    expect(got).toBeCloseTo(want, 5);
    disposeAnswer(batch);
  });

  it('refuses targets that are the inputs (defect 5), weights other than 0/1, no scored token, and a wrong output shape', () => {
    const ok = answerBatch();
    const aliased = { ...ok, targets: ok.tokens.inputIds };
    expect(() => trainObjective(stubBackbone(Z), aliased)).toThrow(/defect 5/);
    const half = answerBatch({ weights: tf.tensor2d([[0, 0.5, 0], [1, 1, 0]]) });
    expect(() => trainObjective(stubBackbone(Z), half)).toThrow(/weight 0.5 at row 0, position 1/);
    const none = answerBatch({ weights: tf.zeros([2, 3]) as tf.Tensor2D });
    expect(() => trainObjective(stubBackbone(Z), none)).toThrow(/no answer token/);
    const obj = trainObjective(stubBackbone(Z), ok);
    const last = tf.zeros([2, 4]);
    expect(() => obj.nll(last)).toThrow(/expected \[2, 3, vocab\]/);
    tf.dispose(last);
    [ok, half, none].forEach(disposeAnswer);
  });
});

describe('trainObjective: multiple-choice batches', () => {
  it("is classNll of the class tokens' logits at the last position, computed by hand", () => {
    const rows = [
      [2, 0, -1],
      [0.5, 0.5, 3],
    ];
    const labels = [0, 1];
    const batch: McqBatch = { ids: ['x', 'y'], tokens: tokens(2, 5), labels: tf.tensor1d(labels, 'int32'), targetIds: [7, 8, 9] };
    const bb = stubBackbone(rows);
    const obj = trainObjective(bb, batch);
    expect(obj.kind).toBe('mcq');
    expect(obj.rows).toBe(2);
    const out = obj.forward(ctx);
    expect(bb.calls[0]).toEqual({ output: 'last', columns: [7, 8, 9], ctx });
    const want = -(logSoftmaxAt(rows[0], 0) + logSoftmaxAt(rows[1], 1)) / 2;
    const nll = obj.nll(out);
    expect(nll.dataSync()[0]).toBeCloseTo(want, 5);
    expect(obj.accuracy(out)).toBe(0.5);
    // the scored rows are the output and the labels themselves (no copy, no gather)
    const r = obj.scored(out);
    expect(r.logits).toBe(out);
    expect(r.labels).toBe(batch.labels);
    tf.dispose([out, nll, batch.labels, batch.tokens.inputIds, batch.tokens.attentionMask]);
  });
});
