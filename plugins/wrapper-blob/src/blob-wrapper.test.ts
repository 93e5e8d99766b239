import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '@bayes-peft/tensor';
import { LoraConfigSchema, Rng, type Logger } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';
import { installLora, peftKey, savePeftAdapter } from '@bayes-peft/lora';
import { ToyBackbone, disposeBatch, makeMcqBatch, makePlan, makeRunContext, setupTestBackend } from '@bayes-peft/testing-backbone';
import plugin, { BlobOptions, BlobWrapper, KL_GUARD, gaussianKlElement } from './index';

beforeAll(setupTestBackend);

const lora = LoraConfigSchema.parse({ r: 4, alpha: 8 });
const PROMPTS = ['aab', 'bba', 'abab', 'baba', 'aaa', 'bbb', 'ab', 'ba'];
const ANSWERS = [0, 1, 0, 1, 0, 1, 0, 1];
const DEFAULTS = BlobOptions.parse({});

function make(options: Partial<BlobOptions> = {}, seed = 1, log?: Logger): { bb: ToyBackbone; w: BlobWrapper } {
  const bb = new ToyBackbone();
  const w = new BlobWrapper(makeRunContext(seed, log ? { log } : {}), lora, BlobOptions.parse({ ...DEFAULTS, ...options }));
  w.attach(bb);
  return { bb, w };
}

function randomizeB(vars: tf.Variable[], seed: number): void {
  tf.tidy(() => vars.filter((v) => /\/B#\d+$/.test(v.name)).forEach((v, i) => v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', seed + i))));
}

function values(vars: tf.Variable[]): number[][] {
  return vars.map((v) => Array.from(v.dataSync()));
}

function cleanup(...things: { dispose(): void }[]): void {
  for (const t of things) t.dispose();
}

describe('wrapper-blob plugin and options', () => {
  it("has the reference's defaults and registers an injectable Wrapper", () => {
    expect(plugin.kind).toBe('wrapper');
    expect(plugin.name).toBe('blob');
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
      compat: { rhoSgdOnly: true, resampleEachStep: false },
    });
    expect(() => plugin.options.parse({ kllr: 1 })).toThrow();
    expect(() => plugin.options.parse({ beta: -1 })).toThrow();
    const session = createRunSession({ context: makeRunContext(3), lora, wrapper: { plugin, options: plugin.options.parse({ evalSamplesFinal: 4 }) } });
    const w = session.wrapper() as BlobWrapper;
    expect(w).toBeInstanceOf(BlobWrapper);
    expect(session.wrapper()).toBe(w);
    expect(w.options.evalSamplesFinal).toBe(4);
  });
});

describe('BlobWrapper', () => {
  it('initialises sigma in [eps^2/2, eps^2] and starts from the same LoRA A as an MLE run of the seed', () => {
    const { bb, w } = make();
    for (const layer of w.adapters().values()) {
      const s = Array.from(layer.sigma().dataSync());
      expect(Math.min(...s)).toBeGreaterThanOrEqual(0.00125 * (1 - 1e-5));
      expect(Math.max(...s)).toBeLessThanOrEqual(0.0025 * (1 + 1e-5));
    }
    const bb2 = new ToyBackbone();
    const plain = installLora(bb2, lora, makeRunContext(1).rng.child('lora'), undefined, 'plain-init');
    for (const [name, { lora: l }] of plain) expect(Array.from(l.A.dataSync())).toEqual(Array.from(w.adapters().get(name)!.lora.A.dataSync()));
    for (const { lora: l } of plain.values()) l.dispose();
    cleanup(w, bb, bb2);
  });

  it("with sigma forced to 0 gives exactly plain LoRA's (MLE's) logits, in every sample", async () => {
    const { bb, w } = make({ evalSamplesFinal: 3 });
    randomizeB(w.variables(), 21);
    tf.tidy(() => w.adapters().forEach((l) => l.rho.assign(tf.zerosLike(l.rho))));
    const bb2 = new ToyBackbone();
    const plain = installLora(bb2, lora, makeRunContext(1).rng.child('lora'), undefined, 'plain-mle');
    tf.tidy(() => plain.forEach(({ lora: l }, name) => l.B.assign(w.adapters().get(name)!.lora.B)));
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    const batch2 = makeMcqBatch(bb2, PROMPTS, ANSWERS);
    const blob = await w.predict(batch, { phase: 'final' });
    const mle = bb2.forward(batch2.tokens, { output: 'last', columns: batch2.targetIds, ctx: { training: false, rng: new Rng(0) } });
    expect(blob.shape).toEqual([PROMPTS.length, 3, 2]);
    const b = blob.arraySync();
    const m = mle.arraySync() as number[][];
    for (let s = 0; s < 3; s++) expect(b.map((row) => row[s])).toEqual(m);
    // and sigma > 0 really perturbs them
    const { bb: bb3, w: w3 } = make({ evalSamplesFinal: 3 });
    randomizeB(w3.variables(), 21);
    const batch3 = makeMcqBatch(bb3, PROMPTS, ANSWERS);
    const noisy = (await w3.predict(batch3, { phase: 'final' })).arraySync();
    expect(noisy.map((row) => row[0])).not.toEqual(m);
    for (const { lora: l } of plain.values()) l.dispose();
    tf.dispose([blob, mle]);
    [batch, batch2, batch3].forEach(disposeBatch);
    cleanup(w, w3, bb, bb2, bb3);
  });

  it('predicts [B, S, C]: evalSamples (intermediate), evalSamplesFinal (final), one posterior-mean pass with inferenceNotSample', async () => {
    const { bb, w } = make({ evalSamples: 2, evalSamplesFinal: 5 });
    randomizeB(w.variables(), 3);
    tf.tidy(() => w.adapters().forEach((l) => l.rho.assign(tf.fill(l.rho.shape, 0.3)))); // sigma 0.09: visible noise
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    const inter = await w.predict(batch, { phase: 'intermediate' });
    const fin = await w.predict(batch, { phase: 'final' });
    expect(inter.shape).toEqual([8, 2, 2]);
    expect(fin.shape).toEqual([8, 5, 2]);
    const f = fin.arraySync();
    expect(f[0][0]).not.toEqual(f[0][1]); // samples differ
    // N = 0: the same weights read by a wrapper with inferenceNotSample
    const dir = path.join(os.tmpdir(), `blob-n0-${process.pid}`);
    return w.save(dir).then(async () => {
      const { bb: bb2, w: w2 } = make({ inferenceNotSample: true, evalSamplesFinal: 5 });
      await w2.load(dir);
      const batch2 = makeMcqBatch(bb2, PROMPTS, ANSWERS);
      const mean = await w2.predict(batch2, { phase: 'final' });
      expect(mean.shape).toEqual([8, 1, 2]);
      w.adapters().forEach((l) => (l.sampling = false));
      const direct = bb.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx: { training: false, rng: new Rng(0) } });
      expect(mean.arraySync().map((r) => r[0])).toEqual(direct.arraySync());
      expect([...w2.adapters().values()].every((l) => l.sampling)).toBe(true); // switched back on after the mean pass
      tf.dispose([inter, fin, mean, direct]);
      [batch, batch2].forEach(disposeBatch);
      cleanup(w, w2, bb, bb2);
      await fs.rm(dir, { recursive: true, force: true });
    });
  });

  it('implements the reference step (compat.rhoSgdOnly): AdamW on A, B; then SGD(klLr) with pi dKL on A and dNLL + pi dKL on rho', () => {
    // Step 0 with B = 0: no NLL gradient reaches A or rho, so AdamW leaves A alone (wd 0) and the
    // SGD step is pure KL: A <- A - klLr pi 2A/(2b^2+1e-6); rho <- rho - klLr pi 2rho (-1/(sigma+1e-6) + 2sigma/(2b^2+1e-6)).
    const { bb, w } = make({ klLr: 0.5 });
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan({ lr: 0.01, stepsPerEpoch: 4 })); // M = 4 -> pi = 1/4
    const layers = [...w.adapters().values()];
    const A0 = layers.map((l) => Array.from(l.lora.A.dataSync()));
    const rho0 = layers.map((l) => Array.from(l.rho.dataSync()));
    const B0 = layers.map((l) => Array.from(l.lora.B.dataSync()));
    const r = w.trainStep(batch, 0);
    const beta = 0.2;
    const d = 2 * beta * beta + KL_GUARD;
    const pi = 0.25;
    expect(r.pi).toBe(pi);
    expect(r.lr).toBeCloseTo(0.01, 12);
    expect(r.klLr).toBeCloseTo(0.5, 12);
    layers.forEach((l, k) => {
      Array.from(l.lora.A.dataSync()).forEach((a, i) => expect(a).toBeCloseTo(A0[k][i] - 0.5 * pi * ((2 * A0[k][i]) / d), 6));
      Array.from(l.rho.dataSync()).forEach((p, i) => {
        const rho = rho0[k][i];
        const s = rho * rho;
        expect(p).toBeCloseTo(rho - 0.5 * pi * 2 * rho * (-1 / (s + KL_GUARD) + (2 * s) / d), 4);
      });
    });
    // B got its first Adam step: |dB| = lr |m_hat| / (sqrt(v_hat) + eps) ~ lr wherever its gradient is not tiny
    const moved = layers.flatMap((l, k) => Array.from(l.lora.B.dataSync()).map((b, i) => Math.abs(b - B0[k][i])));
    expect(Math.max(...moved)).toBeCloseTo(0.01, 4);
    // the logged KL is the closed form at A after AdamW (= A0 here) and the old rho, summed over all layers
    let kl = 0;
    layers.forEach((_, k) => A0[k].forEach((a, i) => (kl += gaussianKlElement(a, rho0[k][i] ** 2, beta))));
    expect(Math.abs(r.kl / pi - kl)).toBeLessThan(1e-5 * kl);
    expect(r.elbo).toBeCloseTo(r.nll + r.kl / pi, 3);
    expect(r.loss).toBeCloseTo(r.nll + r.kl, 5);
    disposeBatch(batch);
    cleanup(w, bb);
  });

  it('with compat.rhoSgdOnly false trains A, B and rho with one AdamW on NLL + pi KL', () => {
    const { bb, w } = make({ compat: { rhoSgdOnly: false, resampleEachStep: false } });
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan({ lr: 0.01 }));
    const rho0 = [...w.adapters().values()].map((l) => Array.from(l.rho.dataSync()));
    const r = w.trainStep(batch, 0);
    expect(r.klLr).toBeUndefined();
    // first Adam step on rho: the KL gradient is non-zero everywhere, so every rho moves by ~lr
    [...w.adapters().values()].forEach((l, k) =>
      Array.from(l.rho.dataSync()).forEach((p, i) => expect(Math.abs(p - rho0[k][i])).toBeCloseTo(0.01, 3)),
    );
    disposeBatch(batch);
    cleanup(w, bb);
  });

  for (const rhoSgdOnly of [true, false]) {
    it(`keeps tf.memory().numTensors flat across 20 training steps, predict and generate (rhoSgdOnly ${rhoSgdOnly}) and reduces the loss`, async () => {
      const { bb, w } = make({ compat: { rhoSgdOnly, resampleEachStep: false }, trainSamples: 2, evalSamplesFinal: 3 });
      const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
      w.prepare(makePlan({ totalSteps: 20, lr: 2e-2 }));
      const first = w.trainStep(batch, 0);
      const baseline = tf.memory().numTensors;
      const nll = [first.nll];
      for (let s = 1; s < 20; s++) {
        const r = w.trainStep(batch, s);
        nll.push(r.nll);
        expect(tf.memory().numTensors).toBe(baseline);
        for (const k of ['loss', 'nll', 'kl', 'elbo', 'pi', 'lr', 'acc']) expect(Number.isFinite(r[k])).toBe(true);
      }
      for (const phase of ['intermediate', 'final'] as const) (await w.predict(batch, { phase })).dispose();
      expect(tf.memory().numTensors).toBe(baseline);
      await w.generate(bb.encode(['ab']), { maxNewTokens: 2, temperature: 0, topP: 1, eosTokenId: null, ctx: { training: false, rng: new Rng(1) }, phase: 'final' });
      expect(tf.memory().numTensors).toBe(baseline);
      expect(nll[19]).toBeLessThan(0.5 * nll[0]);
      disposeBatch(batch);
      cleanup(w, bb);
    });
  }

  it('is deterministic under a seed, and another seed gives another run', async () => {
    const run = async (seed: number) => {
      const { bb, w } = make({ trainSamples: 2 }, seed);
      const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
      w.prepare(makePlan());
      const logs = [0, 1, 2].map((s) => w.trainStep(batch, s));
      const pred = await w.predict(batch, { phase: 'intermediate' });
      const out = { logs, vars: values(w.variables()), pred: Array.from(pred.dataSync()) };
      pred.dispose();
      disposeBatch(batch);
      cleanup(w, bb);
      return out;
    };
    const a = await run(5);
    expect(await run(5)).toEqual(a);
    expect((await run(6)).vars).not.toEqual(a.vars);
  });

  it('saves the PEFT layout with rho and loads it back to identical variables and logits', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'blob-'));
    const { bb, w } = make({ evalSamplesFinal: 4 }, 1);
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan());
    for (let s = 0; s < 3; s++) w.trainStep(batch, s);
    await w.save(dir);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'bayes_peft.json'), 'utf8'))).toEqual({ wrapper: 'blob', options: w.options });
    const { readSafetensors } = await import('@bayes-peft/tensor');
    const { tensors } = await readSafetensors(path.join(dir, 'adapter_model.safetensors'));
    const key = peftKey('model.layers.1.self_attn.v_proj', 'lora_A_rho');
    expect(key).toBe('base_model.model.model.layers.1.self_attn.v_proj.lora_A_rho');
    expect(Array.from(tensors.get(key)!.data)).toEqual(Array.from(w.adapters().get('model.layers.1.self_attn.v_proj')!.rho.dataSync()));

    // a fresh wrapper of the same seed: same predict-call index -> same noise; only the weights come from disk
    const ref = await w.predict(batch, { phase: 'final' });
    const { bb: bb2, w: w2 } = make({ evalSamplesFinal: 4 }, 1);
    const batch2 = makeMcqBatch(bb2, PROMPTS, ANSWERS);
    expect(values(w2.variables())).not.toEqual(values(w.variables()));
    await w2.load(dir);
    expect(values(w2.variables())).toEqual(values(w.variables()));
    const got = await w2.predict(batch2, { phase: 'final' });
    expect(got.arraySync()).toEqual(ref.arraySync());
    tf.dispose([ref, got]);
    [batch, batch2].forEach(disposeBatch);
    cleanup(w, w2, bb, bb2);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('loads an adapter without rho (MLE) keeping its own rho, and refuses one whose sigma parameterisation differs', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'blob-mle-'));
    const warnings: string[] = [];
    const log: Logger = { info() {}, debug() {}, warn: (m) => warnings.push(m) };
    const { bb, w } = make({}, 2, log);
    const tensors: Record<string, tf.Tensor> = {};
    for (const [site, l] of w.adapters()) {
      tensors[peftKey(site, 'lora_A')] = tf.onesLike(l.lora.A);
      tensors[peftKey(site, 'lora_B')] = tf.onesLike(l.lora.B);
    }
    await savePeftAdapter(dir, { config: lora, baseModel: bb.id, tensors, meta: { wrapper: 'mle', options: {} } });
    tf.dispose(Object.values(tensors));
    const rho0 = [...w.adapters().values()].map((l) => Array.from(l.rho.dataSync()));
    await w.load(dir);
    expect([...w.adapters().values()].every((l) => l.lora.A.dataSync().every((x) => x === 1))).toBe(true);
    expect([...w.adapters().values()].map((l) => Array.from(l.rho.dataSync()))).toEqual(rho0);
    expect(warnings.join('\n')).toMatch(/no lora_A_rho for 5 of 5 layers/);

    await w.save(dir);
    const { bb: bb2, w: softplus } = make({ eps: -3 });
    await expect(softplus.load(dir)).rejects.toThrow(/eps 0.05 .*rho\^2.*eps -3/);
    cleanup(w, softplus, bb, bb2);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('throws a clear error naming the step on a non-finite loss', () => {
    const { bb, w } = make();
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan());
    w.trainStep(batch, 0);
    const snapshot = values(w.variables());
    const before = tf.memory().numTensors;
    const forward = bb.forward.bind(bb);
    bb.forward = (b, o) => tf.tidy(() => tf.mul(forward(b, o), Infinity));
    expect(() => w.trainStep(batch, 1)).toThrow(/non-finite loss at step 2 \(nll=NaN\)/);
    expect(tf.memory().numTensors).toBe(before);
    expect(values(w.variables())).toEqual(snapshot);
    disposeBatch(batch);
    cleanup(w, bb);
  });

  it('generates S sequences per prompt, each under one fixed weight sample for all its decoding steps', async () => {
    const { bb, w } = make({ evalSamples: 2, evalSamplesFinal: 3 });
    randomizeB(w.variables(), 8);
    tf.tidy(() => w.adapters().forEach((l) => l.rho.assign(tf.fill(l.rho.shape, 0.5))));
    const fixedAtEachStep: boolean[] = [];
    const forward = bb.forward.bind(bb);
    bb.forward = (b, o) => {
      fixedAtEachStep.push([...w.adapters().values()].every((l) => l.noiseFixed && l.sampling));
      return forward(b, o);
    };
    const enc = bb.encode(['abba', 'b']);
    const opts = { maxNewTokens: 4, temperature: 0, topP: 1, eosTokenId: null, ctx: { training: false, rng: new Rng(4) } };
    const inter = await w.generate(enc, { ...opts, phase: 'intermediate' });
    const fin = await w.generate(enc, { ...opts, phase: 'final' });
    expect(inter.map((g) => g.length)).toEqual([2, 2]);
    expect(fin.map((g) => g.length)).toEqual([3, 3]);
    expect(fixedAtEachStep).toHaveLength((2 + 3) * 4);
    expect(fixedAtEachStep.every(Boolean)).toBe(true);
    expect([...w.adapters().values()].some((l) => l.noiseFixed)).toBe(false); // released afterwards
    // greedy decoding under a fixed weight is a deterministic function of that weight: replay sample 0
    // of the final call by fixing the same draw (named by the call's ctx.rng) by hand
    for (const [name, l] of w.adapters()) l.fixNoise([new Rng(4).child('weights').child(`0/${name}`)]);
    const replay = await bb.generate(enc, { ...opts, ctx: { training: false, rng: new Rng(4).child('sample/0') } });
    w.adapters().forEach((l) => l.releaseNoise());
    expect(replay.map((r) => r.newIds)).toEqual(fin.map((g) => g[0].newIds));
    // inferenceNotSample: a single posterior-mean generation
    const { bb: bb2, w: w2 } = make({ inferenceNotSample: true });
    const mean = await w2.generate(bb2.encode(['abba', 'b']), { ...opts, phase: 'final' });
    expect(mean.map((g) => g.length)).toEqual([1, 1]);
    cleanup(w, w2, bb, bb2);
  });

  it("with compat.resampleEachStep (the reference) fixes nothing: every decoding step samples afresh, so the texts differ from the fixed draws'", async () => {
    const run = async (resampleEachStep: boolean) => {
      const { bb, w } = make({ evalSamplesFinal: 2, compat: { rhoSgdOnly: true, resampleEachStep } });
      randomizeB(w.variables(), 8);
      tf.tidy(() => w.adapters().forEach((l) => l.rho.assign(tf.fill(l.rho.shape, 1))));
      const fixed: boolean[] = [];
      const forward = bb.forward.bind(bb);
      bb.forward = (b, o) => {
        fixed.push([...w.adapters().values()].some((l) => l.noiseFixed));
        return forward(b, o);
      };
      const gen = await w.generate(bb.encode(['abba', 'b']), { maxNewTokens: 6, temperature: 0, topP: 1, eosTokenId: null, ctx: { training: false, rng: new Rng(4) }, phase: 'final' });
      cleanup(w, bb);
      return { fixed, ids: gen.map((row) => row.map((g) => g.newIds)) };
    };
    const perSequence = await run(false);
    const perStep = await run(true);
    expect(perSequence.fixed.every(Boolean)).toBe(true);
    expect(perStep.fixed).toHaveLength(2 * 6);
    expect(perStep.fixed.some(Boolean)).toBe(false);
    expect(perStep.ids).not.toEqual(perSequence.ids);
  });
});
