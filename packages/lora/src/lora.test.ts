import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng, type LoraConfig } from '@bayes-peft/core';
import { findShared } from '@bayes-peft/fixtures';
import { tf } from '@bayes-peft/tensor';
import { setupTestBackend, ToyBackbone } from '@bayes-peft/testing-backbone';
import { installLora, uninstallAdapters } from './install';
import { installPeftAdapter } from './install-peft';
import { linear } from './lora-adapter';
import { ADAPTER_CONFIG, loadPeftAdapter, peftKey, savePeftAdapter } from './peft-format';

const config: LoraConfig = { r: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj', 'lm_head'] };
const ctx = (training = false) => ({ training, rng: new Rng(5) });

beforeAll(async () => {
  await setupTestBackend();
});

describe('LoRA adapter', () => {
  it("initialises A ~ U(-1/sqrt(in), 1/sqrt(in)) and B = 0, PEFT's kaiming-uniform(a = sqrt 5)", () => {
    const bb = new ToyBackbone({ hiddenSize: 64 });
    const adapters = installLora(bb, config, new Rng(1));
    expect(adapters.size).toBeGreaterThan(0);
    const values: number[] = [];
    for (const { lora } of adapters.values()) {
      const bound = 1 / Math.sqrt(lora.site.inFeatures);
      const a = lora.A.dataSync();
      for (const v of a) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
      a.forEach((v) => values.push(v / bound));
      expect(Math.max(...lora.B.dataSync().map(Math.abs))).toBe(0);
      expect(lora.scaling).toBe(2);
    }
    // Scaled to U(-1, 1): mean 0, variance 1/3 (5 standard errors).
    const n = values.length;
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(1 / 3 / n));
    expect(Math.abs(variance - 1 / 3)).toBeLessThan(5 * Math.sqrt(4 / 45 / n));
    for (const { lora } of adapters.values()) lora.dispose();
    bb.dispose();
  });

  it('leaves the model unchanged at initialisation and makes no stray tensors', () => {
    const bb = new ToyBackbone({ hiddenSize: 32 });
    const tokens = bb.toTensors(bb.encode(['a b c', 'b c']));
    const base = tf.tidy(() => bb.forward(tokens, { output: 'last', ctx: ctx() }));
    const before = tf.memory().numTensors;
    const adapters = installLora(bb, config, new Rng(2));
    // Exactly the A and B variables were added.
    expect(tf.memory().numTensors - before).toBe(2 * adapters.size);
    const adapted = tf.tidy(() => bb.forward(tokens, { output: 'last', ctx: ctx() }));
    expect(Array.from(adapted.dataSync())).toEqual(Array.from(base.dataSync()));
    for (const { lora } of adapters.values()) lora.dispose();
    uninstallAdapters(bb);
    tf.dispose([base, adapted, tokens.inputIds, tokens.attentionMask]);
    expect(tf.memory().numTensors).toBe(before - 3);
    bb.dispose();
  });

  it('computes s B A x', () => {
    const bb = new ToyBackbone({ hiddenSize: 8 });
    const { lora } = installLora(bb, { ...config, targets: ['q_proj'] }, new Rng(3)).values().next().value!;
    tf.tidy(() => lora.B.assign(tf.randomNormal(lora.B.shape, 0, 1, 'float32', 9)));
    const x = tf.randomNormal([3, lora.site.inFeatures], 0, 1, 'float32', 4);
    const got = tf.tidy(() => lora.delta(x, ctx()));
    const want = tf.tidy(() => tf.mul(tf.matMul(tf.matMul(x, lora.A, false, true), lora.B, false, true), 2));
    expect(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]).toBeLessThan(1e-6);
    expect(linear(x, lora.A).shape).toEqual([3, 4]);
    tf.dispose([x, got, want]);
    lora.dispose();
    bb.dispose();
  });

  it('applies inverted dropout only while training, keeping the mean', () => {
    const bb = new ToyBackbone({ hiddenSize: 8 });
    const { lora } = installLora(bb, { ...config, dropout: 0.25, targets: ['q_proj'] }, new Rng(3)).values().next().value!;
    const x = tf.ones([2000, 8]);
    const off = lora.dropoutInput(x, ctx(false));
    expect(off).toBe(x);
    const on = tf.tidy(() => lora.dropoutInput(x, ctx(true)));
    const v = on.dataSync();
    const zeros = v.filter((e) => e === 0).length / v.length;
    expect(Math.abs(zeros - 0.25)).toBeLessThan(5 * Math.sqrt((0.25 * 0.75) / v.length));
    for (const e of v) expect(e === 0 || Math.abs(e - 1 / 0.75) < 1e-6).toBe(true);
    tf.dispose([x, on]);
    lora.dispose();
    bb.dispose();
  });
});

describe('PEFT adapter layout', () => {
  it("uses PEFT's key names, as in an adapter PEFT wrote", async () => {
    const golden = findShared('fixtures/stories260K-golden/adapter', 'the PEFT key-name test');
    if (!golden) return;
    const files = await loadPeftAdapter(golden);
    expect(files.config).toEqual({ r: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj', 'lm_head'] });
    const sites = [...Array.from({ length: 5 }, (_, i) => [`model.layers.${i}.self_attn.q_proj`, `model.layers.${i}.self_attn.v_proj`]).flat(), 'lm_head'];
    const ours = sites.flatMap((s) => [peftKey(s, 'lora_A'), peftKey(s, 'lora_B')]).sort();
    expect([...files.tensors.keys()].sort()).toEqual(ours);
  });

  it('round-trips through save and load, and installs as plain LoRA', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lora-'));
    const bb = new ToyBackbone({ hiddenSize: 16 });
    const adapters = installLora(bb, config, new Rng(4));
    const tensors: Record<string, tf.Tensor> = {};
    for (const [site, { lora }] of adapters) {
      tf.tidy(() => lora.B.assign(tf.randomNormal(lora.B.shape, 0, 0.1, 'float32', 7)));
      tensors[peftKey(site, 'lora_A')] = lora.A;
      tensors[peftKey(site, 'lora_B')] = lora.B;
    }
    await savePeftAdapter(dir, { config, baseModel: 'toy', tensors });
    const peftConfig = JSON.parse(await fs.readFile(path.join(dir, ADAPTER_CONFIG), 'utf8'));
    expect(peftConfig).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['q_proj', 'v_proj', 'lm_head'], bias: 'none' });

    const tokens = bb.toTensors(bb.encode(['a b c d']));
    const trained = tf.tidy(() => bb.forward(tokens, { output: 'last', ctx: ctx() }));
    uninstallAdapters(bb);
    const installed = await installPeftAdapter(bb, dir);
    const reloaded = tf.tidy(() => bb.forward(tokens, { output: 'last', ctx: ctx() }));
    expect(Array.from(reloaded.dataSync())).toEqual(Array.from(trained.dataSync()));
    for (const [site, lora] of installed) expect(Array.from(lora.B.dataSync())).toEqual(Array.from(adapters.get(site)!.lora.B.dataSync()));
    tf.dispose([trained, reloaded, tokens.inputIds, tokens.attentionMask]);
    for (const { lora } of adapters.values()) lora.dispose();
    for (const lora of installed.values()) lora.dispose();
    bb.dispose();
  });

  it('names the tensor when a shape does not fit', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lora-'));
    const small = new ToyBackbone({ hiddenSize: 8 });
    const a = installLora(small, config, new Rng(4));
    const tensors: Record<string, tf.Tensor> = {};
    for (const [site, { lora }] of a) Object.assign(tensors, { [peftKey(site, 'lora_A')]: lora.A, [peftKey(site, 'lora_B')]: lora.B });
    await savePeftAdapter(dir, { config, baseModel: 'toy', tensors });
    const big = new ToyBackbone({ hiddenSize: 16 });
    await expect(installPeftAdapter(big, dir)).rejects.toThrow(/tensor 'base_model\.model\.[\w.]+\.lora_A\.weight' has shape \[4,8\], the model needs \[4,16\]/);
    for (const { lora } of a.values()) lora.dispose();
    small.dispose();
    big.dispose();
  });
});
