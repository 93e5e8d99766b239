import { Rng } from '@bayes-peft/core';
import { tf } from '@bayes-peft/tensor';
import { installPeftAdapter, uninstallAdapters } from '@bayes-peft/lora';
import { onnxRuntimeUnavailable } from '@bayes-peft/onnx';
import * as path from 'node:path';
import { loadCausalLm } from '../load';
import type { CausalLm } from '../model';
import { leftPad } from '../encode';
import { describeShared, maxAbsDiff, MODELS, modelDir, readGolden, useWasm, type Golden } from '../shared.test-support';

/** Acceptance bound against the independent PyTorch float32 forward (as the TensorFlow.js path). */
const TOL = 1e-4;
const ctx = () => ({ training: false, rng: new Rng(0) });

// onnxruntime-node ships its CPU binary in the package: CI must run these.
const ortMissing = onnxRuntimeUnavailable();
if (ortMissing && process.env.CI) throw new Error(`onnxruntime is required in CI: ${ortMissing}`);

/** `work` with the model's sampled calls and generation on onnxruntime (back on TensorFlow.js after). */
async function onnxruntime<T>(model: CausalLm, work: () => Promise<T>): Promise<T> {
  model.useEngine('onnxruntime');
  try {
    return await work();
  } finally {
    model.useEngine('tfjs');
  }
}

/** Last-position logits of each row from the onnxruntime graph's full output ([B, 1, T, V]). */
async function onnxLast(model: CausalLm, rows: number[][]): Promise<number[][]> {
  const tokens = model.toTensors(leftPad(rows, model.tokenizer.padTokenId));
  try {
    const logits = await model.onnxForward(tokens, { samples: 1, sampleContext: ctx });
    const all = (await logits.array()) as number[][][][];
    logits.dispose();
    return all.map((r) => r[0][r[0].length - 1]);
  } finally {
    tf.dispose([tokens.inputIds, tokens.attentionMask]);
  }
}

/** Logits at some columns through sampledForward ([B, S, C]) and through forward ([B, C]). */
async function columnsBoth(model: CausalLm, rows: number[][], columns: number[]): Promise<{ onnx: number[][][]; tfjs: number[][] }> {
  const tokens = model.toTensors(leftPad(rows, model.tokenizer.padTokenId));
  try {
    const o = await onnxruntime(model, () => model.sampledForward(tokens, { samples: 2, columns, sampleContext: ctx }));
    const t = tf.tidy(() => model.forward(tokens, { output: 'last', columns, ctx: ctx() }));
    const out = { onnx: (await o.array()) as number[][][], tfjs: (await t.array()) as number[][] };
    tf.dispose([o, t]);
    return out;
  } finally {
    tf.dispose([tokens.inputIds, tokens.attentionMask]);
  }
}

// Device weights are fed as views of the wasm heap; host weights in their stored dtype (BF16
// for tiny-llama3: raw bits widened inside the graph).
for (const placement of ['device', 'host'] as const)
for (const name of MODELS) {
  describeShared(`${name} (${placement} weights) under onnxruntime matches the PyTorch golden outputs`, () => {
    let model: CausalLm;
    let golden: Golden;
    const diffs: Record<string, number> = {};

    beforeAll(async () => {
      await useWasm();
      golden = readGolden(name);
      model = await loadCausalLm(modelDir(name), { weights: placement });
    });
    afterAll(() => {
      uninstallAdapters(model);
      model?.dispose();
      console.log(`${name} (${placement} weights) onnxruntime max abs diff: ${Object.entries(diffs).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
    });

    // Skipped only off CI where onnxruntime-node's binary does not load (CI throws above instead).
    const run = ortMissing ? it.skip : it;
    if (ortMissing) it('onnxruntime is not available here; the onnxruntime parity tests are skipped', () => expect(ortMissing).toBeTruthy());

    run('base logits: each prompt alone and all prompts in one left-padded batch', async () => {
      let alone = 0;
      for (const row of golden.rows) alone = Math.max(alone, maxAbsDiff((await onnxLast(model, [row.ids]))[0], row.base_last_logits));
      const batched = await onnxLast(model, golden.rows.map((r) => r.ids));
      const inBatch = Math.max(...golden.rows.map((r, i) => maxAbsDiff(batched[i], r.base_last_logits)));
      diffs['base alone'] = alone;
      diffs['base batched'] = inBatch;
      expect(alone).toBeLessThan(TOL);
      expect(inBatch).toBeLessThan(TOL);
    });

    run('greedy continuation through onnxruntime (decoding graph, host KV cache) equals the golden one', async () => {
      const batch = leftPad(golden.rows.map((r) => r.ids), model.tokenizer.padTokenId);
      const steps = Math.max(...golden.rows.map((r) => r.base_greedy_ids.length - r.ids.length));
      const results = await onnxruntime(model, () => model.generate(batch, { maxNewTokens: steps, temperature: 0, topP: 1, ctx: ctx() }));
      golden.rows.forEach((row, i) => {
        const got = results[i].ids;
        expect(got).toEqual(row.base_greedy_ids.slice(0, got.length));
        if (got.length < row.base_greedy_ids.length) expect(results[i].finishedWithEos).toBe(true);
      });
    });

    run('sampled generation (temperature 1, top-p 0.9) gives the TensorFlow.js engine\'s tokens and NLL', async () => {
      const batch = leftPad(golden.rows.map((r) => r.ids.slice(0, 12)), model.tokenizer.padTokenId);
      const options = { maxNewTokens: 16, temperature: 1, topP: 0.9 };
      const viaTfjs = await model.generate(batch, { ...options, ctx: { training: false, rng: new Rng(3) } });
      const viaOrt = await onnxruntime(model, () => model.generate(batch, { ...options, ctx: { training: false, rng: new Rng(3) } }));
      viaOrt.forEach((r, i) => {
        expect(r.ids).toEqual(viaTfjs[i].ids);
        expect(r.nll).toBeCloseTo(viaTfjs[i].nll, 3);
      });
    });

    run('three samples decoded together (sampledGenerate) equal three generate calls, each on its own stream', async () => {
      const batch = leftPad(golden.rows.map((r) => r.ids.slice(0, 10)), model.tokenizer.padTokenId);
      const options = { maxNewTokens: 12, temperature: 1, topP: 0.95 };
      const root = new Rng(11);
      const together = await onnxruntime(model, () => model.sampledGenerate(batch, { ...options, samples: 3, sampleContext: (s) => ({ training: false, rng: root.child(`sample/${s}`) }) }));
      for (let s = 0; s < 3; s++) {
        const alone = await model.generate(batch, { ...options, ctx: { training: false, rng: new Rng(11).child(`sample/${s}`) } });
        together.forEach((perSample, b) => {
          expect(perSample[s].ids).toEqual(alone[b].ids);
          expect(perSample[s].nll).toBeCloseTo(alone[b].nll, 3);
        });
      }
      // The three streams really differ (else the comparison above would be of one sample).
      expect(new Set(together.flatMap((perSample) => perSample.map((r) => r.ids.join()))).size).toBeGreaterThan(together.length);
    });

    run('LoRA logits with the golden PEFT adapter, and the column read-out against the TensorFlow.js forward', async () => {
      const installed = await installPeftAdapter(model, path.join(golden.dir, 'adapter'));
      try {
        const rows = golden.rows.map((r) => r.ids);
        const batched = await onnxLast(model, rows);
        const inBatch = Math.max(...golden.rows.map((r, i) => maxAbsDiff(batched[i], r.lora_last_logits)));
        diffs['lora batched'] = inBatch;
        expect(inBatch).toBeLessThan(TOL);

        const columns = [3, 7, model.config.vocabSize - 1, 3];
        const { onnx, tfjs } = await columnsBoth(model, rows, columns);
        let d = 0;
        onnx.forEach((perSample, b) => {
          expect(perSample).toHaveLength(2);
          for (const s of perSample) d = Math.max(d, maxAbsDiff(s, tfjs[b]));
          // The golden logits at those columns, too.
          d = Math.max(d, maxAbsDiff(perSample[0], columns.map((c) => golden.rows[b].lora_last_logits[c])));
        });
        diffs['lora columns'] = d;
        expect(d).toBeLessThan(TOL);
      } finally {
        uninstallAdapters(model);
        for (const lora of installed.values()) lora.dispose();
      }
    });
  });
}
