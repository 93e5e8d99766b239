import { tf } from '@bayes-peft/tensor';
import { LoraConfigSchema, Rng } from '@bayes-peft/core';
import { ToyBackbone, makeRunContext, setupTestBackend } from '@bayes-peft/testing-backbone';
import { FlipoutLoraWrapper, type FlipoutEvalOptions } from './flipout-lora-wrapper';
import { gaussianNoise, type NoiseFamily } from './noise';

beforeAll(setupTestBackend);

const lora = LoraConfigSchema.parse({ r: 4, alpha: 8 });

/** The shared sampler alone (no training): what blob and blob-laplace generate with. */
class TestFlipout extends FlipoutLoraWrapper<FlipoutEvalOptions> {}

/** Gaussian noise that records the standardized draw z of every `perturbation` call (one per site per forward, in site order). */
function recordingNoise(seen: number[][]): NoiseFamily {
  return {
    name: 'recording',
    draw: gaussianNoise.draw,
    perturbation: (sigma, z) => {
      seen.push(Array.from(z.dataSync()));
      return gaussianNoise.perturbation(sigma, z);
    },
  };
}

function make(options: Partial<FlipoutEvalOptions>, noise: NoiseFamily) {
  const bb = new ToyBackbone();
  const w = new TestFlipout(makeRunContext(1), lora, { evalSamples: 2, evalSamplesFinal: 3, ...options }, { name: 'flipout-test', eps: 0.3, noise });
  w.attach(bb);
  // A non-zero B, so the noise on A reaches the logits (a fresh LoRA has B = 0).
  tf.tidy(() => w.adapters().forEach((l) => l.lora.B.assign(tf.randomNormal(l.lora.B.shape, 0, 0.5, 'float32', 5))));
  return { bb, w };
}

describe('compat.resampleEachStep (defect 13)', () => {
  /** The draws z of every forward of a 3-step generation of 2 samples, by forward and site. */
  async function drawsPerStep(resampleEachStep: boolean): Promise<number[][][]> {
    const seen: number[][] = [];
    const { bb, w } = make({ compat: { resampleEachStep } }, recordingNoise(seen));
    const sites = bb.sites().length;
    const steps = 3;
    const calls = bb.forwardCalls;
    await w.generate(bb.encode(['ab', 'ba']), { maxNewTokens: steps, temperature: 0, topP: 1, eosTokenId: null, ctx: { training: false, rng: new Rng(3) }, phase: 'intermediate' });
    expect(bb.forwardCalls - calls).toBe(2 * steps); // 2 weight samples, one forward per decoding step
    expect(seen).toHaveLength(2 * steps * sites); // one perturbation per site per forward
    w.dispose();
    bb.dispose();
    // [forward][site] -> z
    return Array.from({ length: 2 * steps }, (_, f) => seen.slice(f * sites, (f + 1) * sites));
  }

  it('off (the default): every decoding step of a sequence sees the same weight draw; the two samples differ', async () => {
    const forwards = await drawsPerStep(false);
    expect(forwards[1]).toEqual(forwards[0]);
    expect(forwards[2]).toEqual(forwards[0]);
    expect(forwards[3]).not.toEqual(forwards[0]); // sample 1's sequence
    expect(forwards[4]).toEqual(forwards[3]);
  });

  it('on: each decoding step draws fresh noise', async () => {
    const forwards = await drawsPerStep(true);
    for (let f = 1; f < forwards.length; f++) {
      for (let s = 0; s < forwards[f].length; s++) expect(forwards[f][s]).not.toEqual(forwards[f - 1][s]);
    }
  });
});
