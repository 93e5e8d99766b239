import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '@bayes-peft/tensor';
import { LoraConfigSchema, Rng, UserError, classNll, createOptimizer, trainObjective, type AnchorBatches, type CalibrationResult, type Logger, type McqBatch, type TrainBatch } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';
import { installLora, peftKey, savePeftAdapter } from '@bayes-peft/lora';
import { ToyBackbone, disposeBatch, makeAnswerBatch, makeMcqBatch, makePlan, makeRunContext, setupTestBackend } from '@bayes-peft/testing-backbone';
import { answerPass } from './anchor-pass';
import plugin, { TfbOptions, TfbWrapper } from './index';

beforeAll(setupTestBackend);

const lora = LoraConfigSchema.parse({ r: 4, alpha: 8 });
const LABELS = ['A', 'B', 'C'];
// 24 anchor prompts over the toy vocabulary, answers from a simple rule the adapter learns a little of
const ANCHOR = Array.from({ length: 24 }, (_, i) => ['a', 'b', 'c', 'ab', 'ba', 'cab'][i % 6].repeat(1 + (i % 4)) + 'abc'[i % 3]);
const ANSWERS = ANCHOR.map((p) => p.length % 3);
/** Open-ended answers to the anchor prompts (two to four characters). */
const OPEN_ANSWERS = ANCHOR.map((p, i) => ['ba', 'cab', 'abca'][(p.length + i) % 3]);
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

let adapterDir = '';

/** A "trained-ish" adapter: plain LoRA trained 20 AdamW steps on the anchor task, saved in the PEFT layout (as mle saves). */
async function trainAdapter(dir: string): Promise<void> {
  const bb = new ToyBackbone();
  const installed = installLora(bb, lora, new Rng(11).child('lora'), undefined, 'tfb-test-train');
  const vars = [...installed.values()].flatMap(({ lora: l }) => [l.A, l.B]);
  const opt = createOptimizer('adamw', [{ params: vars, weightDecay: 0 }], { lr: 0.03, eps: 1e-6 });
  const batch = makeMcqBatch(bb, ANCHOR, ANSWERS, LABELS);
  const ctx = { training: true, rng: new Rng(0) };
  for (let s = 0; s < 20; s++) {
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => classNll(bb.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx }), batch.labels), vars);
      opt.step(grads, 0.03);
      tf.dispose([value, grads]);
    });
  }
  const tensors: Record<string, tf.Tensor> = {};
  for (const [site, { lora: l }] of installed) {
    tensors[peftKey(site, 'lora_A')] = l.A;
    tensors[peftKey(site, 'lora_B')] = l.B;
  }
  await savePeftAdapter(dir, { config: lora, baseModel: bb.id, tensors, meta: { wrapper: 'mle', options: {} } });
  disposeBatch(batch);
  opt.dispose();
  installed.forEach(({ lora: l }) => l.dispose());
  bb.dispose();
}

/** The runner's AnchorBatches over the toy backbone: fresh batches per pass, disposed after use; counts passes. Open-ended: answer batches of ANCHOR and OPEN_ANSWERS. */
function anchorOf(bb: ToyBackbone, batchSize = 8, open = false): AnchorBatches & { passes: number } {
  const fn = (async function* pass(): AsyncGenerator<TrainBatch> {
    fn.passes++;
    for (let i = 0; i < ANCHOR.length; i += batchSize) {
      const batch = open
        ? makeAnswerBatch(bb, ANCHOR.slice(i, i + batchSize), OPEN_ANSWERS.slice(i, i + batchSize))
        : makeMcqBatch(bb, ANCHOR.slice(i, i + batchSize), ANSWERS.slice(i, i + batchSize), LABELS);
      try {
        yield batch;
      } finally {
        disposeBatch(batch);
      }
    }
  }) as unknown as AnchorBatches & { passes: number };
  fn.passes = 0;
  return fn;
}

async function make(options: Record<string, unknown> = {}, seed = 1, log?: Logger): Promise<{ bb: ToyBackbone; w: TfbWrapper }> {
  const bb = new ToyBackbone();
  const w = new TfbWrapper(makeRunContext(seed, log ? { log } : {}), lora, TfbOptions.parse(options));
  w.attach(bb);
  await w.load(adapterDir);
  return { bb, w };
}

const ctxOf = { numExamples: ANCHOR.length };
/** Options of a search that both accepts and rejects on this toy setup. */
const SEARCH = { beta: 0.1, low: 0.001, iterations: 6, tolerance: 0.05, trainSamples: 2 };

beforeAll(async () => {
  adapterDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfb-adapter-'));
  await trainAdapter(adapterDir);
});
afterAll(() => fs.rm(adapterDir, { recursive: true, force: true }));

describe('wrapper-tfb plugin and options', () => {
  it("has the reference's defaults, is training-free, and registers an injectable Wrapper", () => {
    expect(plugin.name).toBe('tfb');
    expect(plugin.options.parse(undefined)).toEqual({
      beta: 0.2,
      low: 0.001,
      iterations: 10,
      tolerance: 0.01,
      criterion: 'nll',
      trainSamples: 1,
      evalSamples: 1,
      evalSamplesFinal: 10,
      singularValueFloor: 0.01,
      compat: { lastViolating: false, divideByAnchorCount: false, sigmaEpsilon: false },
    });
    expect(() => plugin.options.parse({ low: 0.5, beta: 0.2 })).toThrow(/low must be below beta/);
    expect(() => plugin.options.parse({ criterion: 'ece' })).toThrow();
    const session = createRunSession({ context: makeRunContext(3), lora, wrapper: { plugin, options: plugin.options.parse({ criterion: 'accuracy' }) } });
    const w = session.wrapper() as TfbWrapper;
    expect(w).toBeInstanceOf(TfbWrapper);
    expect(w.trainingFree).toBe(true);
    expect(w.options.criterion).toBe('accuracy');
    const warnings: string[] = [];
    const w2 = new TfbWrapper(makeRunContext(1, { log: { info() {}, debug() {}, warn: (m) => warnings.push(m) } }), lora, TfbOptions.parse({}));
    w2.attach(new ToyBackbone());
    w2.prepare(makePlan());
    expect(warnings.join()).toMatch(/training-free/);
    expect(() => w2.trainStep({} as McqBatch, 0)).toThrow(/never trains/);
    w2.dispose();
  });
});

describe('TfbWrapper', () => {
  it('loads the adapter through the SVD of B: B\'A\' = B A per layer, the posterior mean predicts as the adapter, sigma_i = beta / d_i', async () => {
    const { bb, w } = await make({ beta: 0.05 });
    // the original adapter on another copy of the backbone
    const bb2 = new ToyBackbone();
    const plain = installLora(bb2, lora, new Rng(0), undefined, 'tfb-test-plain');
    const { readSafetensors } = await import('@bayes-peft/tensor');
    const { tensors } = await readSafetensors(path.join(adapterDir, 'adapter_model.safetensors'));
    tf.tidy(() =>
      plain.forEach(({ lora: l }, site) => {
        l.A.assign(tf.tensor2d(tensors.get(peftKey(site, 'lora_A'))!.data as Float32Array, l.A.shape as [number, number]));
        l.B.assign(tf.tensor2d(tensors.get(peftKey(site, 'lora_B'))!.data as Float32Array, l.B.shape as [number, number]));
      }),
    );
    for (const [site, layer] of w.adapters()) {
      const err = tf.tidy(() => {
        const want = tf.matMul(plain.get(site)!.lora.B, plain.get(site)!.lora.A);
        return tf.max(tf.abs(tf.sub(tf.matMul(layer.lora.B, layer.lora.A), want))).dataSync()[0] / tf.max(tf.abs(want)).dataSync()[0];
      });
      expect(err).toBeLessThan(1e-5);
      const d = w.singularValues().get(site)!;
      expect(d[0]).toBeGreaterThan(0);
      const sigma = layer.sigma().arraySync() as number[][];
      const floor = 0.01 * d[0];
      sigma.forEach((row, i) => row.forEach((s) => expect(s).toBeCloseTo(0.05 / Math.max(d[i], floor), 4)));
    }
    const batch = makeMcqBatch(bb, ANCHOR, ANSWERS, LABELS);
    w.adapters().forEach((l) => (l.sampling = false));
    const a = bb.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx: { training: false, rng: new Rng(0) } });
    const b = bb2.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx: { training: false, rng: new Rng(0) } });
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])).toBeLessThan(1e-5);
    tf.dispose([a, b]);
    disposeBatch(batch);
    plain.forEach(({ lora: l }) => l.dispose());
    [w, bb, bb2].forEach((x) => x.dispose());
  });

  it('finds the largest beta whose anchor NLL stays within the tolerance of beta = 0; the next candidate above it does not', async () => {
    const { bb, w } = await make(SEARCH);
    const anchor = anchorOf(bb);
    const result = await w.calibrate(anchor, ctxOf);
    const steps = result.log as { beta: number; value: number; accepted: boolean }[];
    expect(steps).toHaveLength(6);
    const accepted = steps.filter((s) => s.accepted);
    const rejected = steps.filter((s) => !s.accepted);
    expect(accepted.length).toBeGreaterThan(0);
    expect(rejected.length).toBeGreaterThan(0);
    const beta = result.summary.beta as number;
    expect(beta).toBe(Math.max(...accepted.map((s) => s.beta)));
    expect(w.beta).toBe(beta);
    // the returned beta is within tolerance; the smallest rejected candidate (the next bisection candidate above it) is not
    const above = Math.min(...rejected.map((s) => s.beta));
    expect(above).toBeGreaterThan(beta);
    const atBeta = await w.criterionAt(anchor, beta);
    const atAbove = await w.criterionAt(anchor, above);
    expect(atBeta).toBeLessThanOrEqual(0.05);
    expect(atAbove).toBeGreaterThan(0.05);
    // the log records exactly what the criterion gives (common random numbers across candidates)
    expect(atBeta).toBe(steps.find((s) => s.beta === beta)!.value);
    expect(atAbove).toBe(steps.find((s) => s.beta === above)!.value);
    expect(w.beta).toBe(beta); // criterionAt restores it
    expect(result.summary).toMatchObject({ criterion: 'nll', tolerance: 0.05, anchorExamples: 24, iterations: 6, acceptedAny: true });
    // 1 reference pass + 6 candidates + 2 x 2 passes for the checks
    expect(anchor.passes).toBe(7 + 4);
    [w, bb].forEach((x) => x.dispose());
  });

  it('with the accuracy criterion keeps the fraction of changed predictions within the tolerance, and stops once the interval is < 5e-4', async () => {
    const { bb, w } = await make({ ...SEARCH, criterion: 'accuracy', tolerance: 0.05, iterations: 40 });
    const anchor = anchorOf(bb);
    const result = await w.calibrate(anchor, ctxOf);
    const steps = result.log as { beta: number; value: number; accepted: boolean }[];
    expect(steps.length).toBeLessThan(40);
    expect(steps.length).toBe(8); // (0.1 - 0.001) / 2^8 < 5e-4 <= (0.1 - 0.001) / 2^7
    for (const s of steps) {
      expect(Number.isInteger(Math.round(s.value * 24)) && Math.abs(s.value * 24 - Math.round(s.value * 24)) < 1e-9).toBe(true);
      expect(s.accepted).toBe(s.value <= 0.05);
    }
    const beta = result.summary.beta as number;
    expect(await w.criterionAt(anchor, beta)).toBeLessThanOrEqual(0.05);
    expect(steps.some((s) => !s.accepted)).toBe(true);
    [w, bb].forEach((x) => x.dispose());
  });

  it("compat: lastViolating returns the last rejected candidate, divideByAnchorCount divides the criterion by the anchor count", async () => {
    const fixed = await make({ ...SEARCH, iterations: 4 });
    const a = await fixed.w.calibrate(anchorOf(fixed.bb), ctxOf);
    const ref = await make({ ...SEARCH, iterations: 4, compat: { lastViolating: true, divideByAnchorCount: true } });
    const b = await ref.w.calibrate(anchorOf(ref.bb), ctxOf);
    const [s0, r0] = [a.log[0] as { value: number; beta: number }, b.log[0] as { value: number; beta: number }];
    expect(r0.beta).toBe(s0.beta);
    expect(r0.value).toBeCloseTo(s0.value / 24, 12);
    const rejected = (b.log as { beta: number; accepted: boolean }[]).filter((s) => !s.accepted);
    expect(rejected.length).toBeGreaterThan(0);
    expect(b.summary.beta).toBe(rejected[rejected.length - 1].beta);
    [fixed.w, fixed.bb, ref.w, ref.bb].forEach((x) => x.dispose());
  });

  it('is leak-free and deterministic: same seed, same search and predictions', async () => {
    const run = async (seed: number) => {
      const { bb, w } = await make({ ...SEARCH, iterations: 3 }, seed);
      const batch = makeMcqBatch(bb, ANCHOR.slice(0, 8), ANSWERS.slice(0, 8), LABELS);
      const before = tf.memory().numTensors;
      const result: CalibrationResult = await w.calibrate(anchorOf(bb), ctxOf);
      expect(tf.memory().numTensors).toBe(before);
      const pred = await w.predict(batch, { phase: 'final' });
      const out = { log: result.log, beta: result.summary.beta, pred: pred.arraySync() };
      pred.dispose();
      await w.generate(bb.encode(['ab']), { maxNewTokens: 2, temperature: 0, topP: 1, eosTokenId: null, ctx: { training: false, rng: new Rng(1) }, phase: 'final' });
      expect(tf.memory().numTensors).toBe(before);
      expect(out.pred[0]).toHaveLength(10); // evalSamplesFinal weight samples
      disposeBatch(batch);
      [w, bb].forEach((x) => x.dispose());
      return out;
    };
    const first = await run(4);
    expect(await run(4)).toEqual(first);
    expect((await run(5)).log).not.toEqual(first.log);
  });

  it('saves its A\', B\', rho and singular values; a fresh wrapper loads them back to identical predictions', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfb-saved-'));
    const { bb, w } = await make({ ...SEARCH, iterations: 3 });
    await w.calibrate(anchorOf(bb), ctxOf);
    await w.save(dir);
    const batch = makeMcqBatch(bb, ANCHOR.slice(0, 8), ANSWERS.slice(0, 8), LABELS);
    const want = await w.predict(batch, { phase: 'final' });
    const meta = JSON.parse(await fs.readFile(path.join(dir, 'bayes_peft.json'), 'utf8'));
    expect(meta).toMatchObject({ wrapper: 'tfb', beta: w.beta, source: adapterDir });
    const fresh = new TfbWrapper(makeRunContext(1), lora, TfbOptions.parse({ ...SEARCH, iterations: 0, beta: w.beta }));
    const bb2 = new ToyBackbone();
    fresh.attach(bb2);
    await fresh.load(dir);
    expect(fresh.variables().map((v) => Array.from(v.dataSync()))).toEqual(w.variables().map((v) => Array.from(v.dataSync())));
    const got = await fresh.predict(batch, { phase: 'final' });
    expect(got.arraySync()).toEqual(want.arraySync());
    tf.dispose([want, got]);
    disposeBatch(batch);
    [w, fresh, bb, bb2].forEach((x) => x.dispose());
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('without an adapter folder Bayesianizes the adapter installed in memory (SVD in place, product unchanged)', async () => {
    const bb = new ToyBackbone();
    const w = new TfbWrapper(makeRunContext(1), lora, TfbOptions.parse({ iterations: 0, beta: 0.01 }));
    w.attach(bb);
    tf.tidy(() => w.adapters().forEach((l) => l.lora.B.assign(tf.randomNormal(l.lora.B.shape, 0, 0.3, 'float32', 9))));
    const before = [...w.adapters().values()].map((l) => tf.tidy(() => tf.matMul(l.lora.B, l.lora.A).arraySync() as number[][]));
    await w.calibrate(anchorOf(bb), ctxOf);
    expect(w.adapterSource).toBe('memory');
    [...w.adapters().values()].forEach((l, k) => {
      const after = tf.tidy(() => tf.matMul(l.lora.B, l.lora.A).arraySync() as number[][]);
      after.forEach((row, o) => row.forEach((v, c) => expect(v).toBeCloseTo(before[k][o][c], 5)));
      expect(Math.max(...(l.sigma().dataSync() as Float32Array))).toBeGreaterThan(0);
    });
    [w, bb].forEach((x) => x.dispose());
  });

  it('with iterations 0 uses beta directly without touching the anchor set; without an adapter it says how to give one', async () => {
    const { bb, w } = await make({ beta: 0.015, iterations: 0 });
    const anchor = anchorOf(bb);
    const r = await w.calibrate(anchor, ctxOf);
    expect(r.log).toEqual([]);
    expect(r.summary.beta).toBe(0.015);
    expect(anchor.passes).toBe(0);
    const bare = new TfbWrapper(makeRunContext(1), lora, TfbOptions.parse({}));
    bare.attach(new ToyBackbone());
    await expect(bare.calibrate(anchor, ctxOf)).rejects.toThrow(UserError);
    await expect(bare.calibrate(anchor, ctxOf)).rejects.toThrow(/adapter:/);
    // the adapter option, relative to the spec folder
    const viaOption = new TfbWrapper(makeRunContext(1, { specDir: path.dirname(adapterDir) }), lora, TfbOptions.parse({ adapter: path.basename(adapterDir), iterations: 0 }));
    const bb3 = new ToyBackbone();
    viaOption.attach(bb3);
    await viaOption.calibrate(anchor, ctxOf);
    expect(viaOption.adapterSource).toBe(adapterDir);
    [w, bb, bare, viaOption, bb3].forEach((x) => x.dispose());
  });
});

describe('TfbWrapper on an open-ended anchor set (answer batches)', () => {
  it("searches beta on the answer tokens' NLL: the reference pass is the mean model's answer NLL, the largest accepted beta stays within the tolerance", async () => {
    const { bb, w } = await make({ ...SEARCH, tolerance: 0.02 });
    const anchor = anchorOf(bb, 8, true);
    const before = tf.memory().numTensors;
    const result = await w.calibrate(anchor, ctxOf);
    expect(tf.memory().numTensors).toBe(before);
    const steps = result.log as { beta: number; value: number; accepted: boolean }[];
    expect(steps).toHaveLength(6);
    const accepted = steps.filter((s) => s.accepted);
    const rejected = steps.filter((s) => !s.accepted);
    expect(accepted.length).toBeGreaterThan(0);
    expect(rejected.length).toBeGreaterThan(0);
    const beta = result.summary.beta as number;
    expect(beta).toBe(Math.max(...accepted.map((s) => s.beta)));
    const above = Math.min(...rejected.map((s) => s.beta));
    expect(above).toBeGreaterThan(beta);
    expect(await w.criterionAt(anchor, beta)).toBe(steps.find((s) => s.beta === beta)!.value);
    expect(await w.criterionAt(anchor, above)).toBeGreaterThan(0.02);
    expect(result.summary).toMatchObject({ criterion: 'nll', anchorExamples: 24, acceptedAny: true });
    // the criterion's reference is the mean model's mean answer-token NLL over the whole anchor set:
    // with the compat division by the anchor count the value is the undivided one / 24
    const divided = await make({ ...SEARCH, tolerance: 0.02, compat: { divideByAnchorCount: true } });
    expect(await divided.w.criterionAt(anchorOf(divided.bb, 8, true), above)).toBeCloseTo((await w.criterionAt(anchor, above)) / 24, 10);
    [w, bb, divided.w, divided.bb].forEach((x) => x.dispose());
  });

  it("at beta = 0 the criterion is 0; the mean model's pass gives the objective's answer NLL; accuracy counts changed tokens", async () => {
    const { bb, w } = await make({ ...SEARCH, criterion: 'nll' });
    expect(await w.criterionAt(anchorOf(bb, 24, true), 0)).toBe(0);
    // the reference pass (one pass, sampling off) measures the mean model's mean answer-token NLL
    const batch = makeAnswerBatch(bb, ANCHOR, OPEN_ANSWERS);
    w.adapters().forEach((l) => (l.sampling = false));
    const ctx = { training: false, rng: new Rng(0) };
    const pass = await answerPass(bb, batch, 1, () => ctx);
    const nll = tf.tidy(() => {
      const o = trainObjective(bb, batch);
      return o.nll(o.forward(ctx)).dataSync()[0];
    });
    w.adapters().forEach((l) => (l.sampling = true));
    const tokens = tf.tidy(() => tf.sum(batch.weights).dataSync()[0]);
    expect(pass.targetProbs).toHaveLength(tokens);
    expect(mean(pass.targetProbs.map((p) => -Math.log(p)))).toBeCloseTo(nll, 4);
    // the accuracy criterion is the share of answer tokens whose argmax changed: a multiple of 1 / tokens
    const acc = await make({ ...SEARCH, criterion: 'accuracy' });
    const value = await acc.w.criterionAt(anchorOf(acc.bb, 24, true), 0.1);
    expect(value).toBeGreaterThan(0);
    expect(Math.abs(value * tokens - Math.round(value * tokens))).toBeLessThan(1e-9);
    disposeBatch(batch);
    [w, bb, acc.w, acc.bb].forEach((x) => x.dispose());
  });
});
