import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng, type EncodedBatch } from '@bayes-peft/core';
import { makeTinyLlama, type TinyLlamaOptions } from '@bayes-peft/fixtures';
import { installLora, uninstallAdapters } from '@bayes-peft/lora';
import { onnxRuntimeUnavailable } from '@bayes-peft/onnx';
import { tf } from '@bayes-peft/tensor';
import { leftPad } from '../encode';
import { loadCausalLm } from '../load';
import { useWasm } from '../shared.test-support';

// onnxruntime-node ships its CPU binary in the package: CI must run these.
const ortMissing = onnxRuntimeUnavailable();
if (ortMissing && process.env.CI) throw new Error(`onnxruntime is required in CI: ${ortMissing}`);
// Skipped only off CI where onnxruntime-node's binary does not load (CI throws above instead).
const describeOrt = ortMissing ? describe.skip : describe;
if (ortMissing) it(`skipped: onnxruntime is not available here (${ortMissing})`, () => expect(ortMissing).toBeTruthy());

/** Relative error: max |a - b| over max |b|, the bound the engine's kernels are held to. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** Rows of random lengths in [1, maxLen] of random non-special ids, left padded. */
function randomBatch(rng: Rng, rows: number, maxLen: number, vocab: number, pad: number): EncodedBatch {
  return leftPad(
    Array.from({ length: rows }, () => Array.from({ length: 1 + Math.floor(rng.next() * maxLen) }, () => 3 + Math.floor(rng.next() * (vocab - 3)))),
    pad,
  );
}

// Odd sizes on purpose: hidden 40 with 5 heads of 8, GQA 6 heads over 2 or 3 KV heads, tied and
// untied heads, one to three layers.
const CONFIGS: readonly (Partial<TinyLlamaOptions> & { name: string })[] = [
  { name: 'GQA 4/2, untied, 2 layers', seed: 1 },
  { name: 'hidden 40, 5 heads (MHA), tied, 1 layer', seed: 2, hiddenSize: 40, heads: 5, kvHeads: 5, intermediate: 72, layers: 1, tieWordEmbeddings: true },
  { name: 'hidden 48, 6 heads over 3 KV heads, 3 layers', seed: 3, hiddenSize: 48, heads: 6, kvHeads: 3, intermediate: 100, layers: 3 },
  { name: 'hidden 48, 6 heads over 2 KV heads, tied', seed: 4, hiddenSize: 48, heads: 6, kvHeads: 2, intermediate: 96, layers: 2, tieWordEmbeddings: true },
];

describeOrt('the onnxruntime decoder against the TensorFlow.js one, random models and batches', () => {
  let root: string;
  beforeAll(async () => {
    await useWasm();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'onnx-random-'));
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  for (const { name, ...options } of CONFIGS) {
    it(`${name}: every position's logits, plain and with LoRA on every projection, relative error < 1e-5`, async () => {
      const dir = path.join(root, name.replace(/\W+/g, '-'));
      await makeTinyLlama(dir, 'tiny', options);
      const model = await loadCausalLm(dir);
      const rng = new Rng(options.seed ?? 0).child('batches');
      const ctx = { training: false, rng: new Rng(0) };
      const pad = model.tokenizer.padTokenId;
      try {
        for (const lora of [false, true]) {
          if (lora) {
            const installed = installLora(model, { r: 3, alpha: 5, dropout: 0, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head'] }, new Rng(5));
            tf.tidy(() => {
              let i = 0;
              for (const { adapter } of installed.values()) adapter.B.assign(tf.randomNormal(adapter.B.shape, 0, 0.2, 'float32', 100 + i++));
            });
          }
          for (const [rows, maxLen] of [[1, 1], [3, 7], [5, 33]] as const) {
            const tokens = model.toTensors(randomBatch(rng, rows, maxLen, model.config.vocabSize, pad));
            const viaTfjs = tf.tidy(() => model.forward(tokens, { output: 'all', ctx }));
            const viaOrt = await model.onnxForward(tokens, { samples: 1, sampleContext: () => ctx });
            const [b, t, v] = viaTfjs.shape;
            expect(viaOrt.shape).toEqual([b, 1, t, v]);
            // Padding positions are never read (their logits are garbage in both engines).
            const mask = tokens.attentionMask.dataSync();
            const x = viaTfjs.dataSync();
            const y = viaOrt.dataSync();
            const keep = (arr: ArrayLike<number>) => Array.from(arr).filter((_, i) => mask[Math.floor(i / v)] === 1);
            expect(relativeError(keep(y), keep(x))).toBeLessThan(1e-5);
            tf.dispose([viaTfjs, viaOrt, tokens.inputIds, tokens.attentionMask]);
          }
        }
      } finally {
        for (const site of model.sites()) (site.adapter as { dispose?: () => void } | null)?.dispose?.();
        uninstallAdapters(model);
        model.dispose();
      }
    });
  }
});
