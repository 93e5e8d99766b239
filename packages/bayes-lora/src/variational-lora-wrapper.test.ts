import { tf } from '@bayes-peft/tensor';
import { LoraConfigSchema, Rng, type LoraConfig, type RunContext } from '@bayes-peft/core';
import { ToyBackbone, disposeBatch, makeAnswerBatch, makeMcqBatch, makePlan, makeRunContext, setupTestBackend } from '@bayes-peft/testing-backbone';
import type { NoiseFamily } from './noise';
import { VariationalLoraWrapper, type PosteriorFamily } from './variational-lora-wrapper';
import type { VariationalLoraOptions } from './variational-options';

beforeAll(setupTestBackend);

const lora = LoraConfigSchema.parse({ r: 4, alpha: 8 });
const OPTIONS: VariationalLoraOptions = {
  eps: 0.05,
  beta: 0.2,
  gamma: 8,
  klLr: 0.02,
  klReweighting: false,
  datasetRescaling: false,
  trainSamples: 1,
  evalSamples: 2,
  evalSamplesFinal: 3,
  inferenceNotSample: false,
  compat: { rhoSgdOnly: true },
};

/** A family whose perturbation is a constant shift c (no randomness) and whose KL is sum(sigma): easy to predict. */
function shiftFamily(c: number): PosteriorFamily {
  const noise: NoiseFamily = { name: 'shift', draw: (shape) => tf.fill(shape, 1), perturbation: (sigma, z) => tf.mul(tf.onesLike(sigma), tf.mul(z, c)) };
  return { noise, kl: (layers) => tf.tidy(() => tf.addN(layers.map((l) => tf.sum(l.sigma))) as tf.Scalar) };
}

class TestWrapper extends VariationalLoraWrapper<VariationalLoraOptions> {
  constructor(run: RunContext, config: LoraConfig, family: PosteriorFamily, options: Partial<VariationalLoraOptions> = {}) {
    super(run, config, { ...OPTIONS, ...options }, 'test-method', family);
  }
}

describe('VariationalLoraWrapper', () => {
  it("uses the family's noise in predict and its KL in training, under the method's name", async () => {
    const bb = new ToyBackbone();
    const w = new TestWrapper(makeRunContext(1), lora, shiftFamily(0));
    w.attach(bb);
    tf.tidy(() => w.adapters().forEach((l) => l.lora.B.assign(tf.randomNormal(l.lora.B.shape, 0, 0.3, 'float32', 5))));
    const batch = makeMcqBatch(bb, ['ab', 'ba', 'aab', 'bba'], [0, 1, 0, 1]);
    // shift 0: every sample is the posterior mean
    const p = (await w.predict(batch, { phase: 'final' })).arraySync();
    w.adapters().forEach((l) => (l.sampling = false));
    const mean = bb.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx: { training: false, rng: new Rng(0) } });
    const m = mean.arraySync() as number[][];
    expect(p.map((row) => row.length)).toEqual([3, 3, 3, 3]);
    for (let s = 0; s < 3; s++) p.forEach((row, b) => row[s].forEach((v, c) => expect(v).toBeCloseTo(m[b][c], 5)));
    // the logged (unweighted) KL is the family's: sum of sigma over every element of every layer
    w.prepare(makePlan({ stepsPerEpoch: 4 }));
    let sumSigma = 0;
    w.adapters().forEach((l) => tf.tidy(() => (sumSigma += tf.sum(l.sigma()).dataSync()[0])));
    const r = w.trainStep(batch, 0);
    expect(r.kl / r.pi).toBeCloseTo(sumSigma, 4);
    expect(w.name).toBe('test-method');
    expect(() => w.attach(bb)).toThrow(/^test-method: attach\(\) was already called/);
    tf.dispose(mean);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });

  it('with a non-zero perturbation the samples differ (flipout signs per call) and predict leaks no tensor', async () => {
    const bb = new ToyBackbone();
    const w = new TestWrapper(makeRunContext(1), lora, shiftFamily(0.5));
    w.attach(bb);
    tf.tidy(() => w.adapters().forEach((l) => l.lora.B.assign(tf.randomNormal(l.lora.B.shape, 0, 0.3, 'float32', 5))));
    const batch = makeMcqBatch(bb, ['ab', 'ba'], [0, 1]);
    const before = tf.memory().numTensors;
    const p = await w.predict(batch, { phase: 'intermediate' });
    const a = p.arraySync();
    p.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // constant perturbation, but the flipout signs still differ per sample: samples differ from each other
    expect(a[0][0]).not.toEqual(a[0][1]);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });
});

describe('VariationalLoraWrapper on answer batches', () => {
  /** Mean over the scored positions of -log softmax(logits)[target], on the host. */
  function answerNll(logits: number[][][], targets: number[][], weights: number[][]): number {
    let sum = 0;
    let n = 0;
    logits.forEach((rows, b) =>
      rows.forEach((row, t) => {
        if (weights[b][t] !== 1) return;
        sum += Math.log(row.reduce((a, z) => a + Math.exp(z), 0)) - row[targets[b][t]];
        n++;
      }),
    );
    return sum / n;
  }

  it.each([true, false])(
    "scores the mean of trainSamples sampled passes' logits over every position at the answer tokens (rhoSgdOnly %s)",
    (rhoSgdOnly) => {
      const bb = new ToyBackbone();
      const run = makeRunContext(1);
      const w = new TestWrapper(run, lora, shiftFamily(0.5), { trainSamples: 2, compat: { rhoSgdOnly } });
      w.attach(bb);
      tf.tidy(() => w.adapters().forEach((l) => l.lora.B.assign(tf.randomNormal(l.lora.B.shape, 0, 0.3, 'float32', 5))));
      const batch = makeAnswerBatch(bb, ['ab', 'bca', 'c'], ['ca', 'b', 'abc']);
      // the step's two passes, drawn one after the other from its stream train/0 of the wrapper's stream
      const ctx = { training: true, rng: makeRunContext(1).rng.child('wrapper-test-method').child('train/0') };
      const passes = tf.tidy(() => [0, 1].map(() => bb.forward(batch.tokens, { output: 'all', ctx }).arraySync() as number[][][]));
      const mean = passes[0].map((rows, b) => rows.map((row, t) => row.map((z, v) => (z + passes[1][b][t][v]) / 2)));
      expect(passes[0]).not.toEqual(passes[1]); // the samples differ
      w.prepare(makePlan({ stepsPerEpoch: 4 }));
      const r = w.trainStep(batch, 0);
      expect(r.nll).toBeCloseTo(answerNll(mean, batch.targets.arraySync(), batch.weights.arraySync()), 4);
      expect(Number.isFinite(r.kl) && Number.isFinite(r.acc)).toBe(true);
      const after = tf.memory().numTensors;
      w.trainStep(batch, 1);
      expect(tf.memory().numTensors).toBe(after); // no leak across steps
      disposeBatch(batch);
      w.dispose();
      bb.dispose();
    },
  );
});
