import { Rng } from '@bayes-peft/core';
import { tf } from '@bayes-peft/tensor';
import { installPeftAdapter, uninstallAdapters } from '@bayes-peft/lora';
import * as path from 'node:path';
import { loadCausalLm } from './load';
import type { CausalLm } from './model';
import { leftPad } from './encode';
import { describeShared, maxAbsDiff, MODELS, modelDir, readGolden, useWasm, type Golden } from './shared.test-support';

/** Acceptance bound against the independent PyTorch float32 forward. */
const TOL = 1e-4;
const ctx = { training: false, rng: new Rng(0) };

/** Last-position logits of id rows, left padded into one batch. */
async function lastLogits(model: CausalLm, rows: number[][]): Promise<number[][]> {
  const tokens = model.toTensors(leftPad(rows, model.tokenizer.padTokenId));
  try {
    const logits = tf.tidy(() => model.forward(tokens, { output: 'last', ctx }));
    const out = (await logits.array()) as number[][];
    logits.dispose();
    return out;
  } finally {
    tokens.inputIds.dispose();
    tokens.attentionMask.dispose();
  }
}

// 'device': float32 tensors of the backend (the default for small models); 'host': the stored
// dtype in host memory with native products (what 'auto' picks for 1B-class models).
for (const placement of ['device', 'host'] as const)
for (const name of MODELS) {
  describeShared(`${name} (${placement} weights) matches the PyTorch golden outputs`, () => {
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
      console.log(`${name} (${placement} weights) max abs diff: ${Object.entries(diffs).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
    });

    it('tokenizes the prompts to the golden ids', () => {
      for (const row of golden.rows.filter((r) => r.text !== null)) {
        expect(model.tokenizer.encode(row.text!)).toEqual(row.ids);
        expect(model.encode([row.text!]).ids[0]).toEqual(row.ids);
      }
    });

    it('base logits: each prompt alone and all prompts in one left-padded batch', async () => {
      let alone = 0;
      for (const row of golden.rows) alone = Math.max(alone, maxAbsDiff((await lastLogits(model, [row.ids]))[0], row.base_last_logits));
      const batched = await lastLogits(model, golden.rows.map((r) => r.ids));
      const inBatch = Math.max(...golden.rows.map((r, i) => maxAbsDiff(batched[i], r.base_last_logits)));
      diffs['base alone'] = alone;
      diffs['base batched'] = inBatch;
      expect(alone).toBeLessThan(TOL);
      expect(inBatch).toBeLessThan(TOL);
    });

    it('greedy continuation equals the golden one (batched, KV cache)', async () => {
      const batch = leftPad(golden.rows.map((r) => r.ids), model.tokenizer.padTokenId);
      const steps = Math.max(...golden.rows.map((r) => r.base_greedy_ids.length - r.ids.length));
      const results = await model.generate(batch, { maxNewTokens: steps, temperature: 0, topP: 1, ctx });
      golden.rows.forEach((row, i) => {
        const expected = row.base_greedy_ids;
        // The golden continuation has a fixed length; ours stops at EOS, which it then ends with.
        const got = results[i].ids;
        expect(got).toEqual(expected.slice(0, got.length));
        if (got.length < expected.length) expect(results[i].finishedWithEos).toBe(true);
        expect(Number.isFinite(results[i].nll) && results[i].nll >= 0).toBe(true);
      });
    });

    it('LoRA logits with the golden PEFT adapter: alone and batched', async () => {
      const installed = await installPeftAdapter(model, path.join(golden.dir, 'adapter'));
      try {
        expect(new Set([...installed.keys()].map((k) => k.split('.').pop()))).toEqual(new Set(golden.adapter.targets));
        let alone = 0;
        for (const row of golden.rows) alone = Math.max(alone, maxAbsDiff((await lastLogits(model, [row.ids]))[0], row.lora_last_logits));
        const batched = await lastLogits(model, golden.rows.map((r) => r.ids));
        const inBatch = Math.max(...golden.rows.map((r, i) => maxAbsDiff(batched[i], r.lora_last_logits)));
        diffs['lora alone'] = alone;
        diffs['lora batched'] = inBatch;
        expect(alone).toBeLessThan(TOL);
        expect(inBatch).toBeLessThan(TOL);
      } finally {
        uninstallAdapters(model);
        for (const lora of installed.values()) lora.dispose();
      }
    });
  });
}
