import { tf } from '@bayes-peft/tensor';
import { LoraConfigSchema, Rng, classNll } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';
import { KL_GUARD } from '@bayes-peft/bayes-lora';
import { ToyBackbone, disposeBatch, makeMcqBatch, makePlan, makeRunContext, setupTestBackend } from '@bayes-peft/testing-backbone';
import plugin, { BlobLaplaceOptions, BlobLaplaceWrapper } from './index';

beforeAll(setupTestBackend);

const lora = LoraConfigSchema.parse({ r: 4, alpha: 8 });
const PROMPTS = ['aab', 'bba', 'abab', 'baba', 'aaa', 'bbb', 'ab', 'ba'];
const ANSWERS = [0, 1, 0, 1, 0, 1, 0, 1];

function make(options: Record<string, unknown> = {}, seed = 1): { bb: ToyBackbone; w: BlobLaplaceWrapper } {
  const bb = new ToyBackbone();
  const w = new BlobLaplaceWrapper(makeRunContext(seed), lora, BlobLaplaceOptions.parse(options));
  w.attach(bb);
  return { bb, w };
}

function randomizeB(w: BlobLaplaceWrapper, seed: number): void {
  tf.tidy(() => [...w.adapters().values()].forEach((l, i) => l.lora.B.assign(tf.randomNormal(l.lora.B.shape, 0, 0.3, 'float32', seed + i))));
}

/** Gradient of the sampled class NLL with respect to every rho (one forward pass with sampling on). */
function nllGradOnRho(w: BlobLaplaceWrapper, bb: ToyBackbone): number[] {
  const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
  const rhos = [...w.adapters().values()].map((l) => l.rho);
  const ctx = { training: true, rng: new Rng(3) };
  const { value, grads } = tf.variableGrads(() => classNll(bb.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx }), batch.labels), rhos);
  const g = rhos.flatMap((r) => Array.from(grads[r.name].dataSync()));
  tf.dispose([value, ...Object.values(grads)]);
  disposeBatch(batch);
  return g;
}

describe('wrapper-blob-laplace plugin and options', () => {
  it("has BLoB's defaults plus laplaceScaleFactor 1, reparameterised sampling and the Laplace KL, and registers an injectable Wrapper", () => {
    expect(plugin.kind).toBe('wrapper');
    expect(plugin.name).toBe('blob-laplace');
    expect(plugin.options.parse(undefined)).toEqual({
      eps: 0.05,
      beta: 0.2,
      gamma: 8,
      klLr: 0.02,
      klReweighting: false,
      datasetRescaling: false,
      trainSamples: 1,
      evalSamples: 1,
      evalSamplesFinal: 10,
      inferenceNotSample: false,
      laplaceScaleFactor: 1,
      compat: { rhoSgdOnly: true, resampleEachStep: false, detachNoise: false, gaussianKl: false },
    });
    expect(() => plugin.options.parse({ laplaceScaleFactor: 0 })).toThrow();
    expect(() => plugin.options.parse({ compat: { reference: true } })).toThrow();
    const session = createRunSession({ context: makeRunContext(3), lora, wrapper: { plugin, options: plugin.options.parse({ laplaceScaleFactor: 2 }) } });
    const w = session.wrapper() as BlobLaplaceWrapper;
    expect(w).toBeInstanceOf(BlobLaplaceWrapper);
    expect(w.name).toBe('blob-laplace');
    expect(w.options.laplaceScaleFactor).toBe(2);
  });
});

describe('BlobLaplaceWrapper', () => {
  it("lets the likelihood's gradient reach rho (reparameterised); none with compat.detachNoise (the reference)", () => {
    const { bb, w } = make();
    randomizeB(w, 4);
    const g = nllGradOnRho(w, bb);
    expect(Math.max(...g.map(Math.abs))).toBeGreaterThan(1e-4);
    expect(g.filter((x) => x !== 0).length).toBeGreaterThan(g.length / 2);

    const { bb: bb2, w: ref } = make({ compat: { detachNoise: true } });
    randomizeB(ref, 4);
    expect(nllGradOnRho(ref, bb2).every((x) => x === 0)).toBe(true);
    [w, ref, bb, bb2].forEach((x) => x.dispose());
  });

  it('with compat.detachNoise and compat.gaussianKl takes exactly the reference step: rho moves by the Gaussian KL alone', () => {
    // step 0, B = 0: no likelihood gradient anywhere; SGD(klLr) on rho with pi dKL_gauss/drho, as blob's test of the split
    const { bb, w } = make({ klLr: 0.5, compat: { detachNoise: true, gaussianKl: true } });
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan({ lr: 0.01, stepsPerEpoch: 4 })); // M = 4 -> pi = 1/4
    const layers = [...w.adapters().values()];
    const rho0 = layers.map((l) => Array.from(l.rho.dataSync()));
    w.trainStep(batch, 0);
    const d = 2 * 0.2 * 0.2 + KL_GUARD;
    layers.forEach((l, k) =>
      Array.from(l.rho.dataSync()).forEach((p, i) => {
        const rho = rho0[k][i];
        const s = rho * rho;
        expect(p).toBeCloseTo(rho - 0.5 * 0.25 * 2 * rho * (-1 / (s + KL_GUARD) + (2 * s) / d), 4);
      }),
    );
    disposeBatch(batch);
    [w, bb].forEach((x) => x.dispose());
  });

  it('by default steps rho by the Laplace KL gradient: (f/sqrt2)(-2/(2b + 1e-6) + 2b/beta^2) dsigma/drho', () => {
    const factor = 1.5;
    const { bb, w } = make({ klLr: 0.5, laplaceScaleFactor: factor });
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan({ lr: 0.01, stepsPerEpoch: 4 }));
    const layers = [...w.adapters().values()];
    const rho0 = layers.map((l) => Array.from(l.rho.dataSync()));
    const r = w.trainStep(batch, 0);
    const k = factor / Math.SQRT2;
    layers.forEach((l, j) =>
      Array.from(l.rho.dataSync()).forEach((p, i) => {
        const rho = rho0[j][i];
        const b = k * rho * rho;
        const dKlDsigma = k * (-2 / (2 * b + KL_GUARD) + (2 * b) / (0.2 * 0.2));
        expect(p).toBeCloseTo(rho - 0.5 * 0.25 * dKlDsigma * 2 * rho, 3);
      }),
    );
    expect(Number.isFinite(r.kl) && r.kl > 0).toBe(true);
    disposeBatch(batch);
    [w, bb].forEach((x) => x.dispose());
  });

  it('samples Laplace weight noise in predict; inferenceNotSample evaluates the posterior mean in one pass (N = 0)', async () => {
    const { bb, w } = make({ evalSamples: 2, evalSamplesFinal: 4 });
    randomizeB(w, 6);
    tf.tidy(() => w.adapters().forEach((l) => l.rho.assign(tf.fill(l.rho.shape, 0.4))));
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    const fin = await w.predict(batch, { phase: 'final' });
    const inter = await w.predict(batch, { phase: 'intermediate' });
    expect(fin.shape).toEqual([8, 4, 2]);
    expect(inter.shape).toEqual([8, 2, 2]);
    const f = fin.arraySync();
    expect(f[0][0]).not.toEqual(f[0][1]);

    const { bb: bb2, w: mean } = make({ inferenceNotSample: true, evalSamplesFinal: 4 });
    tf.tidy(() => mean.adapters().forEach((l, name) => {
      const src = w.adapters().get(name)!;
      l.lora.A.assign(src.lora.A);
      l.lora.B.assign(src.lora.B);
      l.rho.assign(src.rho);
    }));
    const batch2 = makeMcqBatch(bb2, PROMPTS, ANSWERS);
    const n0 = await mean.predict(batch2, { phase: 'final' });
    expect(n0.shape).toEqual([8, 1, 2]);
    w.adapters().forEach((l) => (l.sampling = false));
    const direct = bb.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx: { training: false, rng: new Rng(0) } });
    expect(n0.arraySync().map((row) => row[0])).toEqual(direct.arraySync());
    expect([...mean.adapters().values()].every((l) => l.sampling)).toBe(true);
    tf.dispose([fin, inter, n0, direct]);
    [batch, batch2].forEach(disposeBatch);
    [w, mean, bb, bb2].forEach((x) => x.dispose());
  });

  it('keeps tf.memory().numTensors flat across training steps, predict and generate, and reduces the loss', async () => {
    const { bb, w } = make({ trainSamples: 2, evalSamplesFinal: 3 });
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan({ totalSteps: 20, lr: 2e-2 }));
    const first = w.trainStep(batch, 0);
    const baseline = tf.memory().numTensors;
    let last = first;
    for (let s = 1; s < 20; s++) {
      last = w.trainStep(batch, s);
      expect(tf.memory().numTensors).toBe(baseline);
      for (const k of ['loss', 'nll', 'kl', 'elbo', 'pi', 'lr', 'acc']) expect(Number.isFinite(last[k])).toBe(true);
    }
    for (const phase of ['intermediate', 'final'] as const) (await w.predict(batch, { phase })).dispose();
    await w.generate(bb.encode(['ab']), { maxNewTokens: 2, temperature: 0, topP: 1, eosTokenId: null, ctx: { training: false, rng: new Rng(1) }, phase: 'final' });
    expect(tf.memory().numTensors).toBe(baseline);
    expect(last.nll).toBeLessThan(0.5 * first.nll);
    disposeBatch(batch);
    [w, bb].forEach((x) => x.dispose());
  });

  it('is deterministic under a seed, and another seed gives another run', async () => {
    const run = async (seed: number) => {
      const { bb, w } = make({ trainSamples: 2 }, seed);
      const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
      w.prepare(makePlan());
      const logs = [0, 1, 2].map((s) => w.trainStep(batch, s));
      const pred = await w.predict(batch, { phase: 'intermediate' });
      const out = { logs, vars: w.variables().map((v) => Array.from(v.dataSync())), pred: Array.from(pred.dataSync()) };
      pred.dispose();
      disposeBatch(batch);
      [w, bb].forEach((x) => x.dispose());
      return out;
    };
    const a = await run(5);
    expect(await run(5)).toEqual(a);
    expect((await run(6)).vars).not.toEqual(a.vars);
  });
});
