import { tf } from '@bayes-peft/tensor';
import { Rng, type LinearSite } from '@bayes-peft/core';
import { LoraAdapter } from '@bayes-peft/lora';
import { setupTestBackend } from '@bayes-peft/testing-backbone';
import { FlipoutAdapter } from './flipout-adapter';

beforeAll(setupTestBackend);

const IN = 12;
const OUT = 5;
const R = 4;
const ALPHA = 8; // s = 2

function site(): LinearSite {
  return { name: 'model.layers.0.self_attn.q_proj', kind: 'q_proj', layerIndex: 0, inFeatures: IN, outFeatures: OUT, weight: tf.zeros([OUT, IN]), adapter: null };
}

/** A flipout layer with non-trivial B and sigma in [0.04, 0.36] (rho in [0.2, 0.6], sigma = rho^2). */
function layer(seed = 1): { fl: FlipoutAdapter; B: number[][]; sigma: number[][] } {
  const rng = new Rng(seed);
  const lora = new LoraAdapter(site(), { r: R, alpha: ALPHA, dropout: 0 }, rng.child('lora'));
  const B = Array.from({ length: OUT }, () => Array.from({ length: R }, () => rng.normal()));
  const rho = Array.from({ length: R }, () => Array.from({ length: IN }, () => 0.2 + 0.4 * rng.next()));
  tf.tidy(() => lora.B.assign(tf.tensor2d(B)));
  const rhoVar = tf.variable(tf.tensor2d(rho), true);
  return { fl: new FlipoutAdapter(lora, rhoVar, 0.05), B, sigma: rho.map((row) => row.map((r) => r * r)) };
}

const ctxOf = (label: string) => ({ training: false, rng: new Rng(7).child(label) });

describe('FlipoutAdapter', () => {
  it('is exactly the LoRA delta with sampling off', () => {
    const { fl } = layer();
    const x = tf.randomNormal([3, 7, IN], 0, 1, 'float32', 3);
    fl.sampling = false;
    const a = fl.delta(x, ctxOf('a'));
    const b = fl.lora.delta(x, ctxOf('b'));
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([x, a, b]);
    fl.dispose();
  });

  it('has a noise term with mean 0 and variance s^2 sum_r B^2 sum_i sigma^2 x^2 (5-sigma bounds)', () => {
    const { fl, B, sigma } = layer(2);
    const T = 32; // token positions per call: independent signs, one shared eps
    const calls = 600;
    const xRow = Array.from({ length: IN }, (_, i) => Math.cos(i) * (1 + i / IN));
    const x = tf.tensor2d(Array.from({ length: T }, () => xRow));
    fl.sampling = false;
    const mean = fl.delta(x, ctxOf('mean'));
    fl.sampling = true;
    const sum = new Float64Array(OUT);
    const sumSq = new Float64Array(OUT);
    for (let c = 0; c < calls; c++) {
      const noise = tf.tidy(() => tf.sub(fl.delta(x, ctxOf(`call${c}`)), mean));
      const d = noise.dataSync();
      for (let t = 0; t < T; t++) {
        for (let o = 0; o < OUT; o++) {
          sum[o] += d[t * OUT + o];
          sumSq[o] += d[t * OUT + o] ** 2;
        }
      }
      noise.dispose();
    }
    const s = ALPHA / R;
    const N = calls * T;
    for (let o = 0; o < OUT; o++) {
      // noise_o = s sum_r B_or S_r sum_i sigma_ri eps_ri R_i x_i: Gaussian given the signs, terms c_ri = s B_or sigma_ri x_i
      const c: number[] = [];
      for (let r = 0; r < R; r++) for (let i = 0; i < IN; i++) c.push(s * B[o][r] * sigma[r][i] * xRow[i]);
      const variance = c.reduce((a, v) => a + v * v, 0);
      // tokens of one call share eps: uncorrelated (independent signs) but their squares correlate by sum c^4 / (sum c^2)^2
      const rho4 = c.reduce((a, v) => a + v ** 4, 0) / variance ** 2;
      const m = sum[o] / N;
      const v = sumSq[o] / N; // the mean is known to be 0
      expect(Math.abs(m)).toBeLessThan(5 * Math.sqrt(variance / N));
      const sdOfVar = variance * Math.sqrt((2 / N) * (1 + (T - 1) * rho4));
      expect(Math.abs(v - variance)).toBeLessThan(5 * sdOfVar);
    }
    tf.dispose([x, mean]);
    fl.dispose();
  });

  it('draws its noise from the call context seeds: same seed, same draw; another seed, another', () => {
    const { fl } = layer(3);
    const x = tf.randomNormal([4, IN], 0, 1, 'float32', 5);
    const a = fl.delta(x, ctxOf('same'));
    const b = fl.delta(x, ctxOf('same'));
    const c = fl.delta(x, ctxOf('other'));
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync())); // seeded by the context
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
    tf.dispose([x, a, b, c]);
    fl.dispose();
  });

  it('with fixed noise applies exactly the weight A + sigma ⊙ eps on every call (one weight sample per sequence)', () => {
    const { fl } = layer(4);
    fl.fixNoise([new Rng(9)]);
    expect(fl.noiseFixed).toBe(true);
    const x1 = tf.randomNormal([2, 3, IN], 0, 1, 'float32', 6);
    const x2 = tf.randomNormal([1, 1, IN], 0, 1, 'float32', 8);
    // recover the sampled weight from the layer's own eps draw, then compare a plain linear map
    const eps = tf.randomNormal([R, IN], 0, 1, 'float32', new Rng(9).nextSeed() || 1);
    const W = tf.tidy(() => tf.add(fl.lora.A, tf.mul(fl.sigma(), eps)));
    for (const x of [x1, x2]) {
      for (const label of ['step1', 'step2']) {
        const got = fl.delta(x, ctxOf(label));
        const want = tf.tidy(() => fl.lora.up(fl.lora.down(x, W as tf.Tensor2D)));
        Array.from(got.dataSync()).forEach((g, i) => expect(g).toBeCloseTo(want.dataSync()[i], 5));
        tf.dispose([got, want]);
      }
    }
    const before = tf.memory().numTensors;
    fl.releaseNoise();
    expect(fl.noiseFixed).toBe(false);
    expect(tf.memory().numTensors).toBe(before - 1);
    tf.dispose([x1, x2, eps, W]);
    fl.dispose();
  });
});
