import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '@bayes-peft/tensor';
import { LoraConfigSchema, type McqBatch } from '@bayes-peft/core';
import { loadCausalLm, type CausalLm } from '@bayes-peft/backbone-causal-lm';
import { makeTinyLlama } from '@bayes-peft/fixtures';
import { onnxRuntimeUnavailable } from '@bayes-peft/onnx';
import { makeRunContext, setupTestBackend } from '@bayes-peft/testing-backbone';
import { BlobOptions, BlobWrapper } from './index';

// onnxruntime-node ships its CPU binary in the package: CI must run these.
const ortMissing = onnxRuntimeUnavailable();
if (ortMissing && process.env.CI) throw new Error(`onnxruntime is required in CI: ${ortMissing}`);
// Skipped only off CI where onnxruntime-node's binary does not load (CI throws above instead).
const describeOrt = ortMissing ? describe.skip : describe;
if (ortMissing) it(`skipped: onnxruntime is not available here (${ortMissing})`, () => expect(ortMissing).toBeTruthy());

const PROMPTS = ['the cat sat on the mat . answer : A', 'a dog ran . answer :', 'B', 'the the the cat dog . answer : C D'];
const COLUMNS = ['A', 'B', 'C', 'D', 'E'];

let dir: string;
beforeAll(async () => {
  await setupTestBackend();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'blob-onnx-'));
  // GQA (4 heads, 2 KV heads), untied head: the cases the graph handles apart.
  await makeTinyLlama(dir, 'tiny', { seed: 3 });
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

async function setup(targets: string[], options: Partial<BlobOptions>, engine: 'tfjs' | 'onnxruntime') {
  const model = await loadCausalLm(dir);
  const lora = LoraConfigSchema.parse({ r: 4, alpha: 8, targets });
  const w = new BlobWrapper(makeRunContext(7), lora, BlobOptions.parse({ evalSamplesFinal: 5, evalSamples: 2, ...options }));
  w.attach(model);
  // A trained-looking adapter: B != 0 and sigma large enough that samples differ visibly.
  tf.tidy(() => {
    let i = 0;
    for (const layer of w.adapters().values()) {
      layer.lora.B.assign(tf.randomNormal(layer.lora.B.shape, 0, 0.5, 'float32', 11 + i++));
      layer.rho.assign(tf.fill(layer.rho.shape, 0.6));
    }
  });
  // The run's choice of engine, set once on the backbone: the wrapper never sees it.
  model.useEngine(engine);
  const enc = model.encode(PROMPTS);
  const ids = COLUMNS.map((c) => model.tokenizer.encode(c, { addSpecialTokens: false })[0]);
  const batch: McqBatch = { tokens: model.toTensors(enc), labels: tf.tensor1d([0, 1, 2, 3], 'int32'), targetIds: ids } as unknown as McqBatch;
  return { model, w, batch };
}

function release(model: CausalLm, w: BlobWrapper, batch: McqBatch) {
  tf.dispose([batch.tokens.inputIds, batch.tokens.attentionMask, batch.labels]);
  w.dispose();
  model.dispose();
}

describeOrt('BLoB evaluation through onnxruntime', () => {
  for (const [label, targets] of [
    ['q_proj, v_proj, lm_head (the paper)', ['q_proj', 'v_proj', 'lm_head']],
    ['every projection and the head', ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head']],
  ] as const) {
    it(`gives the TensorFlow.js engine's logits, sample for sample (same seed, same draws): ${label}`, async () => {
      const a = await setup([...targets], {}, 'tfjs');
      const b = await setup([...targets], {}, 'onnxruntime');
      try {
        const viaTfjs = await a.w.predict(a.batch, { phase: 'final' });
        const viaOrt = await b.w.predict(b.batch, { phase: 'final' });
        expect(viaOrt.shape).toEqual([PROMPTS.length, 5, COLUMNS.length]);
        const x = viaTfjs.arraySync();
        const y = viaOrt.arraySync();
        let diff = 0;
        let spread = 0;
        x.forEach((perSample, i) =>
          perSample.forEach((row, s) =>
            row.forEach((v, c) => {
              diff = Math.max(diff, Math.abs(v - y[i][s][c]));
              spread = Math.max(spread, Math.abs(y[i][s][c] - y[i][0][c]));
            }),
          ),
        );
        expect(diff).toBeLessThan(1e-4);
        // The samples really differ: the comparison is not of five copies of the mean.
        expect(spread).toBeGreaterThan(1e-2);
        tf.dispose([viaTfjs, viaOrt]);
      } finally {
        release(a.model, a.w, a.batch);
        release(b.model, b.w, b.batch);
      }
    });
  }

  it('the posterior mean (inferenceNotSample) and the intermediate sample count match too', async () => {
    for (const options of [{ inferenceNotSample: true }, {}]) {
      const a = await setup(['q_proj', 'v_proj', 'lm_head'], options, 'tfjs');
      const b = await setup(['q_proj', 'v_proj', 'lm_head'], options, 'onnxruntime');
      try {
        const x = await a.w.predict(a.batch, { phase: 'intermediate' });
        const y = await b.w.predict(b.batch, { phase: 'intermediate' });
        expect(y.shape).toEqual(x.shape);
        expect(tf.max(tf.abs(tf.sub(x, y))).dataSync()[0]).toBeLessThan(1e-4);
        tf.dispose([x, y]);
      } finally {
        release(a.model, a.w, a.batch);
        release(b.model, b.w, b.batch);
      }
    }
  });

  it('generates the same texts with the same NLL through onnxruntime: one fixed weight sample A + E per sequence', async () => {
    const a = await setup(['q_proj', 'v_proj', 'lm_head'], { evalSamples: 3 }, 'tfjs');
    const b = await setup(['q_proj', 'v_proj', 'lm_head'], { evalSamples: 3 }, 'onnxruntime');
    try {
      const prompts = a.model.encode(PROMPTS);
      const options = { maxNewTokens: 12, temperature: 1, topP: 1, eosTokenId: null, phase: 'intermediate' as const };
      const x = await a.w.generate(prompts, { ...options, ctx: { training: false, rng: makeRunContext(1).rng } });
      const before = tf.memory().numTensors; // after the first TensorFlow.js decode made its RoPE tables
      const y = await b.w.generate(prompts, { ...options, ctx: { training: false, rng: makeRunContext(1).rng } });
      expect(tf.memory().numTensors).toBe(before);
      expect(y.map((row) => row.length)).toEqual(PROMPTS.map(() => 3));
      y.forEach((row, i) =>
        row.forEach((r, s) => {
          expect(r.newIds).toEqual(x[i][s].newIds);
          expect(Math.abs(r.nll - x[i][s].nll)).toBeLessThan(1e-3);
        }),
      );
      // The three weight samples of a prompt are really different samples.
      expect(new Set(y[0].map((r) => r.newIds.join())).size).toBeGreaterThan(1);
    } finally {
      release(a.model, a.w, a.batch);
      release(b.model, b.w, b.batch);
    }
  });

  it('keeps tf.memory().numTensors flat over repeated onnxruntime predictions, and splits samples into runs without changing them', async () => {
    const a = await setup(['q_proj', 'v_proj', 'lm_head'], {}, 'onnxruntime');
    const b = await setup(['q_proj', 'v_proj', 'lm_head'], {}, 'tfjs');
    const saved = process.env.BAYES_PEFT_ORT_ROWS;
    try {
      tf.dispose(await a.w.predict(a.batch, { phase: 'final' }));
      const before = tf.memory().numTensors;
      for (let k = 0; k < 3; k++) tf.dispose(await a.w.predict(a.batch, { phase: 'final' }));
      expect(tf.memory().numTensors).toBe(before);

      // Same call index on a twin wrapper, samples 2 + 2 + 1 per run instead of 5 in one run.
      const whole = await a.w.predict(a.batch, { phase: 'final' });
      for (let k = 0; k < 4; k++) tf.dispose(await b.w.predict(b.batch, { phase: 'final' }));
      process.env.BAYES_PEFT_ORT_ROWS = String(2 * a.batch.tokens.inputIds.size);
      b.model.useEngine('onnxruntime');
      const split = await b.w.predict(b.batch, { phase: 'final' });
      expect(split.shape).toEqual(whole.shape);
      expect(tf.max(tf.abs(tf.sub(whole, split))).dataSync()[0]).toBeLessThan(1e-5);
      tf.dispose([whole, split]);
    } finally {
      if (saved === undefined) delete process.env.BAYES_PEFT_ORT_ROWS;
      else process.env.BAYES_PEFT_ORT_ROWS = saved;
      release(a.model, a.w, a.batch);
      release(b.model, b.w, b.batch);
    }
  });
});
