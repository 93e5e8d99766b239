import { tf } from '@bayes-peft/tensor';
import { LoraConfigSchema } from '@bayes-peft/core';
import { ToyBackbone, disposeBatch, makeMcqBatch, makeRunContext, setupTestBackend } from '@bayes-peft/testing-backbone';
import { FlipoutLoraWrapper, type FlipoutEvalOptions } from './flipout-lora-wrapper';
import { gaussianNoise } from './noise';

beforeAll(setupTestBackend);

const lora = LoraConfigSchema.parse({ r: 4, alpha: 8 });

/** The shared sampler alone (no training): what blob, blob-laplace and tfb evaluate with. */
class TestFlipout extends FlipoutLoraWrapper<FlipoutEvalOptions> {}

function make(options: Partial<FlipoutEvalOptions> = {}) {
  const bb = new ToyBackbone();
  const w = new TestFlipout(makeRunContext(1), lora, { evalSamples: 2, evalSamplesFinal: 3, ...options }, { name: 'flipout-test', eps: 0.3, noise: gaussianNoise });
  w.attach(bb);
  // A non-zero B, so the noise on A reaches the logits (a fresh LoRA has B = 0).
  tf.tidy(() => w.adapters().forEach((l) => l.lora.B.assign(tf.randomNormal(l.lora.B.shape, 0, 0.5, 'float32', 5))));
  return { bb, w };
}

describe('FlipoutLoraWrapper.predictMean (val_flip_ratio)', () => {
  it('is the posterior mean: the one pass with sampling off, equal to predict under inferenceNotSample, unlike the sampled passes', async () => {
    const a = make();
    const b = make({ inferenceNotSample: true });
    const batch = makeMcqBatch(a.bb, ['ab', 'ba', 'aab'], [0, 1, 0]);
    const mean = await a.w.predictMean(batch);
    expect(mean.shape).toEqual([3, 2]);
    const notSample = await b.w.predict(batch, { phase: 'final' }); // [3, 1, 2]
    const m = mean.arraySync();
    notSample.arraySync().forEach((row, i) => row[0].forEach((v, c) => expect(m[i][c]).toBeCloseTo(v, 6)));
    const sampled = await a.w.predict(batch, { phase: 'final' });
    expect(sampled.arraySync()[0][0][0]).not.toBeCloseTo(m[0][0], 4);
    // sampling is back on afterwards
    expect([...a.w.adapters().values()].every((l) => l.sampling)).toBe(true);
    tf.dispose([mean, notSample, sampled]);
    disposeBatch(batch);
    for (const { w, bb } of [a, b]) (w.dispose(), bb.dispose());
  });

  it("draws nothing from the run's streams: predictions after it equal a twin run's without it, and it leaks no tensor", async () => {
    const a = make();
    const b = make();
    const batch = makeMcqBatch(a.bb, ['ab', 'ba'], [0, 1]);
    const before = tf.memory().numTensors;
    const m = await a.w.predictMean(batch);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const p = await a.w.predict(batch, { phase: 'final' });
    const q = await b.w.predict(batch, { phase: 'final' });
    expect(p.arraySync()).toEqual(q.arraySync());
    tf.dispose([p, q]);
    disposeBatch(batch);
    for (const { w, bb } of [a, b]) (w.dispose(), bb.dispose());
  });
});
