import { LoraConfigSchema, Rng } from '@bayes-peft/core';
import { tf } from '@bayes-peft/tensor';
import { ToyBackbone, disposeBatch, makeAnswerBatch, makeMcqBatch, makePlan, makeRunContext, setupTestBackend } from '@bayes-peft/testing-backbone';
import { LoraWrapper } from './lora-wrapper';

beforeAll(setupTestBackend);

class PlainLora extends LoraWrapper {
  readonly name = 'plain-lora-test';
}

const lora = LoraConfigSchema.parse({ r: 4, alpha: 8 });
const PROMPTS = ['ab', 'bca', 'c'];
const ANSWERS = ['ca', 'b', 'abc'];

/** -log softmax(row)[k], on the host. */
const nllAt = (row: number[], k: number) => Math.log(row.reduce((s, z) => s + Math.exp(z), 0)) - row[k];
const argmax = (row: number[]) => row.reduce((best, v, i) => (v > row[best] ? i : best), 0);

describe('LoraWrapper on answer batches', () => {
  it("reports the mean answer-token NLL and accuracy of the base model at step 0 (B = 0), computed by hand from every position's logits", () => {
    const bb = new ToyBackbone({ seed: 2 });
    const w = new PlainLora(makeRunContext(3), lora, {});
    w.attach(bb);
    w.prepare(makePlan({ totalSteps: 10, lr: 0.05 }));
    const batch = makeAnswerBatch(bb, PROMPTS, ANSWERS);
    // B = 0: the adapters add nothing, so the step's forward is the base model's
    const logits = tf.tidy(() => bb.forward(batch.tokens, { output: 'all', ctx: { training: false, rng: new Rng(0) } }).arraySync() as number[][][]);
    const targets = batch.targets.arraySync();
    const weights = batch.weights.arraySync();
    let sum = 0;
    let right = 0;
    let n = 0;
    logits.forEach((rows, b) =>
      rows.forEach((row, t) => {
        if (weights[b][t] !== 1) return;
        sum += nllAt(row, targets[b][t]);
        right += argmax(row) === targets[b][t] ? 1 : 0;
        n++;
      }),
    );
    expect(n).toBe(2 + 1 + 3 + 3); // every answer character and each EOS
    const first = w.trainStep(batch, 0);
    expect(first.nll).toBeCloseTo(sum / n, 4);
    expect(first.loss).toBe(first.nll);
    expect(first.acc).toBeCloseTo(right / n, 6);
    // and training lowers it, without leaking
    const count = tf.memory().numTensors;
    let last = first;
    for (let s = 1; s < 8; s++) last = w.trainStep(batch, s);
    expect(tf.memory().numTensors).toBe(count);
    expect(last.nll).toBeLessThan(first.nll);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });

  it('trains multiple-choice batches as before: the class NLL of the label tokens at the last position', () => {
    const bb = new ToyBackbone({ seed: 2 });
    const w = new PlainLora(makeRunContext(3), lora, {});
    w.attach(bb);
    w.prepare(makePlan());
    const batch = makeMcqBatch(bb, PROMPTS, [0, 1, 0]);
    const rows = tf.tidy(() => bb.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx: { training: false, rng: new Rng(0) } }).arraySync() as number[][]);
    const want = (nllAt(rows[0], 0) + nllAt(rows[1], 1) + nllAt(rows[2], 0)) / 3;
    expect(w.trainStep(batch, 0).nll).toBeCloseTo(want, 5);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });
});
