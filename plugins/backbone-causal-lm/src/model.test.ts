import { Rng, type ForwardContext } from '@bayes-peft/core';
import { tf } from '@bayes-peft/tensor';
import { installLora, uninstallAdapters, type LoraAdapter } from '@bayes-peft/lora';
import { leftPad } from './encode';
import { loadCausalLm } from './load';
import type { CausalLm } from './model';
import { describeShared, maxAbsDiff, modelDir, useWasm } from './shared.test-support';
import { parseSafetensors } from '@bayes-peft/tensor';
import * as fs from 'node:fs';
import * as path from 'node:path';

function readSafetensorsSync(dir: string) {
  return parseSafetensors(new Uint8Array(fs.readFileSync(path.join(dir, 'model.safetensors')))).tensors;
}

const evalCtx = (): ForwardContext => ({ training: false, rng: new Rng(0) });
const PROMPTS = ['Once upon a time', 'The little dog was very happy because', 'Lily'];

function forwardHost(model: CausalLm, rows: number[][], options: { output: 'last' | 'all'; columns?: number[] }): number[][] | number[][][] {
  const tokens = model.toTensors(leftPad(rows, model.tokenizer.padTokenId));
  const out = tf.tidy(() => model.forward(tokens, { ...options, ctx: evalCtx() }));
  const values = out.arraySync() as number[][];
  out.dispose();
  tokens.inputIds.dispose();
  tokens.attentionMask.dispose();
  return values;
}

describeShared('CausalLm on stories260K (tied) and tiny-qwen2 (untied, biased)', () => {
  let stories: CausalLm;
  let qwen: CausalLm;

  beforeAll(async () => {
    await useWasm();
    stories = await loadCausalLm(modelDir('stories260K'));
    qwen = await loadCausalLm(modelDir('tiny-qwen2'));
  });
  afterAll(() => {
    stories?.dispose();
    qwen?.dispose();
  });

  it('exposes one site per projection per layer plus lm_head, under the Hugging Face names', () => {
    const sites = stories.sites();
    expect(sites).toHaveLength(5 * 7 + 1);
    expect(sites.slice(0, 7).map((s) => s.name)).toEqual([
      'model.layers.0.self_attn.q_proj',
      'model.layers.0.self_attn.k_proj',
      'model.layers.0.self_attn.v_proj',
      'model.layers.0.self_attn.o_proj',
      'model.layers.0.mlp.gate_proj',
      'model.layers.0.mlp.up_proj',
      'model.layers.0.mlp.down_proj',
    ]);
    const down3 = sites.find((s) => s.name === 'model.layers.3.mlp.down_proj')!;
    expect([down3.kind, down3.layerIndex, down3.inFeatures, down3.outFeatures]).toEqual(['down_proj', 3, 172, 64]);
    const k0 = sites[1];
    expect([k0.outFeatures, k0.inFeatures]).toEqual([4 * 8, 64]);
    const head = sites[sites.length - 1];
    expect([head.name, head.kind, head.layerIndex, head.outFeatures, head.inFeatures]).toEqual(['lm_head', 'lm_head', null, 512, 64]);
    // Tied: lm_head's weight is the embedding matrix; one device copy serves both.
    const internals = (m: CausalLm) => (m as unknown as { weights: { embed: unknown; lmHead: { frozen: unknown } } }).weights;
    expect(internals(stories).lmHead.frozen).toBe(internals(stories).embed);
    const embedding = (readSafetensorsSync(modelDir('stories260K')) as Map<string, { data: Float32Array }>).get('model.embed_tokens.weight')!.data;
    expect(Array.from(head.weight.dataSync())).toEqual(Array.from(embedding));
    expect(head.weight.shape).toEqual([512, 64]);
    const qwenHead = qwen.sites()[qwen.sites().length - 1];
    expect(internals(qwen).lmHead.frozen).not.toBe(internals(qwen).embed);
    expect(qwenHead.weight.shape).toEqual([512, 64]);
    const q0 = qwen.sites()[0];
    const q0File = (readSafetensorsSync(modelDir('tiny-qwen2')) as Map<string, { data: Float32Array }>).get('model.layers.0.self_attn.q_proj.weight')!.data;
    expect(Array.from(q0.weight.dataSync())).toEqual(Array.from(q0File));
    expect(qwen.config).toMatchObject({ modelType: 'qwen2', headDim: 16, qkvBias: true, outputBias: false, tieWordEmbeddings: false });
  });

  it("output 'all' ends with the 'last' logits; 'columns' picks vocabulary columns", () => {
    const rows = PROMPTS.map((p) => stories.tokenizer.encode(p));
    const last = forwardHost(stories, rows, { output: 'last' }) as number[][];
    const all = forwardHost(stories, rows, { output: 'all' }) as number[][][];
    const width = Math.max(...rows.map((r) => r.length));
    expect(all.map((r) => r.length)).toEqual(rows.map(() => width));
    all.forEach((r, i) => expect(maxAbsDiff(r[width - 1], last[i])).toBeLessThan(1e-5));
    const columns = [5, 410, 2, 511];
    for (const model of [stories, qwen]) {
      const full = forwardHost(model, rows, { output: 'last' }) as number[][];
      const picked = forwardHost(model, rows, { output: 'last', columns }) as number[][];
      picked.forEach((r, i) => expect(maxAbsDiff(r, columns.map((c) => full[i][c]))).toBeLessThan(1e-5));
    }
    expect(() => forwardHost(stories, rows, { output: 'last', columns: [512] })).toThrow('column 512 is outside the vocabulary [0, 512)');
  });

  it("adapters see the same inputs, in the same order, whether the forward reads the 'last' position or 'all'", () => {
    // A sampling adapter draws per token from the forward's random stream in call order, so the
    // calls must not change when the last layer works on the last position only.
    const calls: string[] = [];
    const recorder = (name: string) => ({
      delta: (x: tf.Tensor) => {
        calls.push(`${name} [${x.shape}]`);
        return tf.zeros([...x.shape.slice(0, -1), stories.site(name).outFeatures]);
      },
    });
    const decoderSites = stories.sites().filter((site) => site.kind !== 'lm_head');
    const tokens = stories.toTensors(stories.encode(PROMPTS));
    const record = (output: 'last' | 'all') => {
      calls.length = 0;
      const y = tf.tidy(() => stories.forward(tokens, { output, ctx: evalCtx() }));
      const lastRow = tf.tidy(() => (output === 'all' ? tf.slice(y, [0, y.shape[1]! - 1, 0], [y.shape[0], 1, y.shape[2]!]).reshape([y.shape[0], -1]) : y.clone()));
      const values = Array.from(lastRow.dataSync());
      tf.dispose([y, lastRow]);
      return { calls: [...calls], values };
    };
    try {
      // Adapters everywhere (the last layer then runs whole), and only on q_proj and v_proj (its
      // attention and MLP then run for the last position only): same calls, same logits.
      for (const targets of [['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], ['q_proj', 'v_proj']]) {
        for (const site of decoderSites) site.adapter = targets.includes(site.kind) ? recorder(site.name) : null;
        const all = record('all');
        const last = record('last');
        expect(all.calls).toHaveLength(decoderSites.filter((site) => targets.includes(site.kind)).length);
        expect(last.calls).toEqual(all.calls);
        expect(maxAbsDiff(last.values, all.values)).toBeLessThan(1e-5);
      }
    } finally {
      for (const site of decoderSites) site.adapter = null;
      tf.dispose([tokens.inputIds, tokens.attentionMask]);
    }
  });

  it('gives finite outputs for an all-padding row', () => {
    const tokens = { inputIds: tf.tensor2d([[0, 0, 0], [1, 403, 407]], [2, 3], 'int32'), attentionMask: tf.tensor2d([[0, 0, 0], [1, 1, 1]], [2, 3], 'int32') };
    const out = tf.tidy(() => stories.forward(tokens, { output: 'all', ctx: evalCtx() }));
    expect(Array.from(out.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([out, tokens.inputIds, tokens.attentionMask]);
  });

  it('encode keeps BOS and the last tokens when it truncates, and pads on the left', () => {
    const full = stories.tokenizer.encode('Tom and Sam went to the park. They saw a big');
    const batch = stories.encode(['Tom and Sam went to the park. They saw a big', 'Lily'], { maxLength: 6 });
    expect(batch.ids[0]).toEqual([1, ...full.slice(-5)]);
    const lily = stories.tokenizer.encode('Lily');
    expect(batch.ids[1]).toEqual([...new Array(6 - lily.length).fill(stories.tokenizer.padTokenId), ...lily]);
    expect(batch.mask[1]).toEqual([...new Array(6 - lily.length).fill(0), ...lily.map(() => 1)]);
    expect(stories.encode(['Lily'], { addSpecialTokens: false }).ids[0]).toEqual(lily.slice(1));
    expect(stories.tokenizer.padTokenId).toBe(2); // no pad token: eos
    expect(stories.tokenizer.addsBos).toBe(true);
  });

  it('keeps tf.memory().numTensors flat across forwards and generations', async () => {
    const batch = stories.encode(PROMPTS);
    const run = async () => {
      const tokens = stories.toTensors(batch);
      tf.tidy(() => stories.forward(tokens, { output: 'last', ctx: evalCtx() })).dispose();
      tf.tidy(() => stories.forward(tokens, { output: 'last', ctx: evalCtx(), columns: [3, 4] })).dispose();
      tokens.inputIds.dispose();
      tokens.attentionMask.dispose();
      await stories.generate(batch, { maxNewTokens: 4, temperature: 0.8, topP: 0.9, ctx: evalCtx() });
    };
    await run(); // warm-up: RoPE tables are built on first use
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await run();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('samples reproducibly from the context rng, and runs to maxNewTokens without EOS', async () => {
    const batch = stories.encode(PROMPTS);
    const sample = (seed: number) =>
      stories.generate(batch, { maxNewTokens: 12, temperature: 1, topP: 0.95, ctx: { training: false, rng: new Rng(seed) }, eosTokenId: null });
    const a = await sample(7);
    const b = await sample(7);
    const c = await sample(8);
    expect(a.map((r) => r.newIds)).toEqual(b.map((r) => r.newIds));
    expect(a.map((r) => r.newIds)).not.toEqual(c.map((r) => r.newIds));
    for (const r of a) {
      expect(r.newIds).toHaveLength(12);
      expect(r.finishedWithEos).toBe(false);
      expect(Number.isFinite(r.nll) && r.nll > 0).toBe(true);
      expect(r.text).toBe(stories.tokenizer.decode(r.newIds, { skipSpecialTokens: true }));
    }
  });

  it('greedy nll is the sum of -log p of the chosen tokens under the unwarped logits', async () => {
    const ids = stories.tokenizer.encode('Once upon a time');
    const [r] = await stories.generate(leftPad([ids], 2), { maxNewTokens: 3, temperature: 0, topP: 1, ctx: evalCtx(), eosTokenId: null });
    let nll = 0;
    for (let i = 0; i < 3; i++) {
      const prefix = r.ids.slice(0, ids.length + i);
      const logits = (forwardHost(stories, [prefix], { output: 'last' }) as number[][])[0];
      const max = Math.max(...logits);
      const lse = max + Math.log(logits.reduce((s, x) => s + Math.exp(x - max), 0));
      nll -= logits[r.newIds[i]] - lse;
      expect(r.newIds[i]).toBe(logits.indexOf(max));
    }
    expect(r.nll).toBeCloseTo(nll, 4);
  });

  it('is differentiable with respect to LoRA variables (finite, non-zero, matching finite differences)', () => {
    const installed = installLora(stories, { r: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj', 'lm_head'] }, new Rng(3));
    const loras: LoraAdapter[] = [...installed.values()].map((x) => x.lora);
    const seed = new Rng(11);
    for (const l of loras) l.B.assign(tf.randomNormal(l.B.shape, 0, 0.05, 'float32', seed.nextSeed()));
    const tokens = stories.toTensors(stories.encode(PROMPTS));
    const labels = tf.tensor1d([0, 1, 2], 'int32');
    try {
      const vars = loras.flatMap((l) => l.variables());
      const loss = () =>
        tf.tidy(() => {
          const logits = stories.forward(tokens, { output: 'last', ctx: { training: true, rng: new Rng(0) }, columns: [410, 262, 378] });
          return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(labels, 3)), 1))) as tf.Scalar;
        });
      // With an lm_head adapter: the frozen head's columns plus the columns of the full-vocabulary delta.
      const rows = PROMPTS.map((p) => stories.tokenizer.encode(p));
      const full = forwardHost(stories, rows, { output: 'last' }) as number[][];
      const picked = forwardHost(stories, rows, { output: 'last', columns: [410, 262, 378] }) as number[][];
      picked.forEach((r, i) => expect(maxAbsDiff(r, [410, 262, 378].map((c) => full[i][c]))).toBeLessThan(1e-5));

      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(loss, vars);
      const norms: Record<string, number> = {};
      for (const [name, g] of Object.entries(grads)) {
        const d = g.dataSync();
        expect(Array.from(d).every(Number.isFinite)).toBe(true);
        norms[name] = Math.sqrt(Array.from(d).reduce((s, x) => s + x * x, 0));
      }
      for (const l of loras) {
        expect(norms[l.B.name]).toBeGreaterThan(0);
        expect(norms[l.A.name]).toBeGreaterThan(0);
      }
      // Directional derivative along the gradient: (L(v + eps g) - L(v - eps g)) / 2 eps = |g|^2.
      const eps = 1e-4; // small: the loss is curved; large enough for float32 differences
      const saved = vars.map((v) => tf.clone(v));
      const shift = (sign: number) =>
        vars.forEach((v, i) => {
          const moved = tf.tidy(() => tf.add(saved[i], tf.mul(grads[v.name], sign * eps)));
          v.assign(moved);
          moved.dispose();
        });
      shift(1);
      const up = loss();
      shift(-1);
      const down = loss();
      vars.forEach((v, i) => v.assign(saved[i]));
      const slope = (up.dataSync()[0] - down.dataSync()[0]) / (2 * eps);
      const squared = Object.values(norms).reduce((s, n) => s + n * n, 0);
      expect(Math.abs(slope - squared) / squared).toBeLessThan(0.01);
      tf.dispose([value, up, down, ...saved, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      uninstallAdapters(stories);
      for (const l of loras) l.dispose();
      tf.dispose([tokens.inputIds, tokens.attentionMask, labels]);
    }
  });
});
