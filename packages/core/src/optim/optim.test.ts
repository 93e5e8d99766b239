import { tf } from '@bayes-peft/tensor';
import {
  Adam,
  AdamW,
  createOptimizer,
  decodeOptimizerStates,
  encodeOptimizerStates,
  linearWarmupDecay,
  LinearWarmupDecay,
  referenceParamGroups,
  Sgd,
  warmupStepsFromRatio,
} from './index';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** torch.optim.AdamW / Adam written out in double precision, straight from the torch docs. */
function torchAdamRef(p0: number[], grads: number[][], lrs: number[], o: { wd: number; eps: number; decoupled: boolean }): number[] {
  const [b1, b2] = [0.9, 0.999];
  const p = p0.slice();
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g0, k) => {
    const t = k + 1;
    const lr = lrs[k];
    for (let i = 0; i < p.length; i++) {
      let g = g0[i];
      if (o.decoupled) p[i] *= 1 - lr * o.wd;
      else g += o.wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const mHat = m[i] / (1 - b1 ** t);
      const vHat = v[i] / (1 - b2 ** t);
      p[i] -= (lr * mHat) / (Math.sqrt(vHat) + o.eps);
    }
  });
  return p;
}

function run(opt: { step(g: Record<string, tf.Tensor>, lr?: number): void }, v: tf.Variable, grads: number[][], lrs?: number[]): void {
  grads.forEach((g, k) => {
    const gt = tf.tensor(g, v.shape);
    opt.step({ [v.name]: gt }, lrs?.[k]);
    gt.dispose();
  });
}

describe('linear warmup / decay schedule (LambdaLR of the reference)', () => {
  it('warms up linearly over a fractional W and decays to 0 at T', () => {
    // T = 100, warmup ratio 0.06 -> W = 6.000000000000001 (float, as Python computes it)
    const W = warmupStepsFromRatio(100, 0.06);
    const o = { totalSteps: 100, warmupSteps: W };
    expect(linearWarmupDecay(0, o)).toBe(0);
    expect(linearWarmupDecay(3, o)).toBeCloseTo(0.5, 12);
    expect(linearWarmupDecay(6, o)).toBeCloseTo(1, 12); // 6 < 6.000000000000001: still the warmup branch, 6/W
    expect(linearWarmupDecay(7, o)).toBeCloseTo(93 / 94, 12);
    expect(linearWarmupDecay(100, o)).toBe(0);
    expect(linearWarmupDecay(150, o)).toBe(0);
    // fractional W: T = 10, ratio 0.06 -> W = 0.6; step 0 is warmup (0), step 1 decays (10-1)/max(1, 9.4)
    const f = { totalSteps: 10, warmupSteps: 0.6 };
    expect(linearWarmupDecay(0, f)).toBe(0);
    expect(linearWarmupDecay(1, f)).toBeCloseTo(9 / 9.4, 12);
    // no warmup: full rate at step 0; T - W < 1 guarded by max(1, .)
    expect(linearWarmupDecay(0, { totalSteps: 10, warmupSteps: 0 })).toBe(1);
    expect(linearWarmupDecay(0, { totalSteps: 0, warmupSteps: 0 })).toBe(0);
    expect(new LinearWarmupDecay(2e-4, { totalSteps: 10, warmupSteps: 0 }).lr(5)).toBeCloseTo(1e-4, 15);
  });
});

describe('AdamW (torch.optim.AdamW)', () => {
  it('matches three steps computed by hand', () => {
    // p0 = 1, grads 0.5, -0.25, 0.125, lr 0.1, wd 0.01, eps 1e-6, betas (0.9, 0.999).
    // step 1: p = 1 * (1 - 0.1 * 0.01) = 0.999; m = 0.05; v = 2.5e-4; m_hat = 0.5; v_hat = 0.25;
    //         p = 0.999 - 0.1 * 0.5 / (0.5 + 1e-6) = 0.8990002
    // step 2: p = 0.8990002 * 0.999 = 0.8981012; m = 0.05 + 0.1 (-0.25 - 0.05) = 0.02;
    //         v = 2.5e-4 * 0.999 + 1e-3 * 0.0625 = 3.1225e-4; m_hat = 0.02 / 0.19 = 0.1052632;
    //         v_hat = 3.1225e-4 / 1.999e-3 = 0.1562031, sqrt = 0.3952254;
    //         p = 0.8981012 - 0.1 * 0.1052632 / 0.3952264 = 0.8714676
    // step 3: m = 0.0305, v = 3.2756275e-4 -> p = 0.8365533
    const v = tf.variable(tf.tensor1d([1]), true);
    const opt = new AdamW([v], { lr: 0.1, weightDecay: 0.01, eps: 1e-6 });
    const seen: number[] = [];
    for (const g of [0.5, -0.25, 0.125]) {
      run(opt, v, [[g]]);
      seen.push(v.dataSync()[0]);
    }
    expect(seen[0]).toBeCloseTo(0.8990002, 6);
    expect(seen[1]).toBeCloseTo(0.8714676, 6);
    expect(seen[2]).toBeCloseTo(0.8365533, 6);
    const st = opt.getState();
    expect(st.params[0].step).toBe(3);
    expect(st.params[0].slots.exp_avg[0]).toBeCloseTo(0.0305, 7);
    expect(st.params[0].slots.exp_avg_sq[0]).toBeCloseTo(3.2756275e-4, 10);
    opt.dispose();
    v.dispose();
  });

  it('matches the torch formulas over many elements, scheduled lrs and two weight-decay groups', () => {
    const n = 12;
    const p0 = Array.from({ length: n }, (_, i) => Math.sin(i + 1));
    const grads = Array.from({ length: 6 }, (_, k) => Array.from({ length: n }, (_, i) => Math.cos(3 * i + k) * 10 ** ((i % 5) - 3)));
    const lrs = [0, 0.05, 0.1, 0.08, 0.04, 0.01]; // a warmup/decay schedule; lr 0 still advances the moments
    const a = tf.variable(tf.tensor2d(p0, [3, 4]), true, 'opt-test/q_proj/lora_A');
    const b = tf.variable(tf.tensor1d(p0), true, 'opt-test/q_proj/bias');
    const opt = new AdamW(referenceParamGroups([a, b], 0.1), { lr: 1, eps: 1e-6 });
    grads.forEach((g, k) => {
      const ga = tf.tensor2d(g, [3, 4]);
      const gb = tf.tensor1d(g);
      opt.step({ [a.name]: ga, [b.name]: gb }, lrs[k]);
      tf.dispose([ga, gb]);
    });
    const refA = torchAdamRef(p0, grads, lrs, { wd: 0.1, eps: 1e-6, decoupled: true });
    const refB = torchAdamRef(p0, grads, lrs, { wd: 0, eps: 1e-6, decoupled: true }); // 'bias' -> wd 0
    Array.from(a.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(refA[i], 5));
    Array.from(b.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(refB[i], 5));
    expect(Math.abs(refA[0] - refB[0])).toBeGreaterThan(1e-3); // the groups really differ
    opt.dispose();
    tf.dispose([a, b]);
  });

  it('skips parameters without a gradient (torch leaves them and their step count alone)', () => {
    const a = tf.variable(tf.ones([2]), true);
    const b = tf.variable(tf.ones([2]), true);
    const opt = new AdamW([a, b], { lr: 0.1 });
    const g = tf.ones([2]);
    opt.step({ [a.name]: g, [b.name]: null });
    expect(Array.from(b.dataSync())).toEqual([1, 1]);
    expect(opt.getState().params.map((p) => p.step)).toEqual([1, 0]);
    tf.dispose([g, a, b]);
    opt.dispose();
  });
});

describe('Adam (torch.optim.Adam) and SGD', () => {
  it('Adam folds weight decay into the gradient (L2); wd 0 is plain Adam', () => {
    const p0 = [0.5, -2, 3];
    const grads = [[0.1, 0.2, -0.3], [0.05, -0.1, 0.2], [1, 1, 1]];
    for (const wd of [0, 0.1]) {
      const v = tf.variable(tf.tensor1d(p0), true);
      const opt = new Adam([v], { lr: 0.01, weightDecay: wd, eps: 1e-6 });
      run(opt, v, grads);
      const ref = torchAdamRef(p0, grads, [0.01, 0.01, 0.01], { wd, eps: 1e-6, decoupled: false });
      Array.from(v.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(ref[i], 6));
      opt.dispose();
      v.dispose();
    }
  });

  it('SGD: p <- p - lr (g + wd p)', () => {
    const v = tf.variable(tf.tensor1d([1, -1]), true);
    const opt = new Sgd([v], { lr: 0.5, weightDecay: 0.1 });
    run(opt, v, [[0.2, 0.4]]);
    // 1 - 0.5 (0.2 + 0.1) = 0.85 ; -1 - 0.5 (0.4 - 0.1) = -1.15
    expect(Array.from(v.dataSync())[0]).toBeCloseTo(0.85, 6);
    expect(Array.from(v.dataSync())[1]).toBeCloseTo(-1.15, 6);
    run(opt, v, [[0, 0]], [2]); // lr override: only the decay acts: 0.85 * (1 - 0.2)
    expect(Array.from(v.dataSync())[0]).toBeCloseTo(0.68, 6);
    opt.dispose();
    v.dispose();
  });
});

describe('optimizer state', () => {
  it('round-trips through host arrays so a resumed run continues bit-for-bit', () => {
    const grads = Array.from({ length: 5 }, (_, k) => [Math.sin(k), Math.cos(k), 0.1 * k]);
    const p0 = [0.3, 0.2, 0.1];
    const a = tf.variable(tf.tensor1d(p0), true);
    const optA = createOptimizer('adamw', [a], { lr: 0.05, weightDecay: 0.01, eps: 1e-6 });
    run(optA, a, grads.slice(0, 3));
    const saved = optA.getState();
    const savedP = Float32Array.from(a.dataSync());
    run(optA, a, grads.slice(3));

    // a fresh process: new variable (another name), state restored through the safetensors-ready encoding
    const b = tf.variable(tf.tensor1d(savedP), true);
    const optB = createOptimizer('adamw', [b], { lr: 0.05, weightDecay: 0.01, eps: 1e-6 });
    const enc = encodeOptimizerStates({ main: saved });
    const restored = decodeOptimizerStates(JSON.parse(JSON.stringify(enc.index)), enc.tensors).main;
    optB.setState(restored);
    run(optB, b, grads.slice(3));
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));

    expect(() => optB.setState({ ...restored, kind: 'sgd' })).toThrow(/cannot restore/);
    tf.dispose([a, b]);
    optA.dispose();
    optB.dispose();
  });

  it('keeps tf.memory().numTensors flat across steps and frees its buffers on dispose', () => {
    const before = tf.memory().numTensors;
    const a = tf.tidy(() => tf.variable(tf.randomNormal([8, 8], 0, 1, 'float32', 1), true));
    const opt = new AdamW([a], { lr: 1e-3, weightDecay: 0.01 });
    const afterBuild = tf.memory().numTensors;
    for (let k = 0; k < 20; k++) {
      const g = tf.mul(a, 2); // d/da sum(a^2)
      opt.step({ [a.name]: g });
      g.dispose();
      expect(tf.memory().numTensors).toBe(afterBuild);
    }
    opt.dispose();
    a.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => opt.step({})).toThrow(/after dispose/);
  });
});
