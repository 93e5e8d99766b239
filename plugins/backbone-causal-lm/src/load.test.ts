import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng, silentLogger, type RunContext } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';
import { readSafetensors, writeSafetensors, tf } from '@bayes-peft/tensor';
import plugin, { CausalLmOptions } from './index';
import { loadCausalLm } from './load';
import { ModelLoadError } from './errors';
import { describeShared, modelDir, SHARED, useWasm } from './shared.test-support';

describe('the plugin object', () => {
  it('is the causal-lm backbone with a documented, strict options schema', () => {
    const pkg = require('../package.json');
    expect(plugin).toMatchObject({ kind: 'backbone', name: 'causal-lm', version: pkg.version, packageName: '@bayes-peft/backbone-causal-lm' });
    expect(CausalLmOptions.parse({ path: 'HuggingFaceTB/SmolLM2-135M' })).toEqual({ path: 'HuggingFaceTB/SmolLM2-135M', weights: 'auto' });
    expect(() => CausalLmOptions.parse({ path: 'x', weights: 'gpu' })).toThrow();
    expect(() => CausalLmOptions.parse({ path: 'x', dtype: 'bf16' })).toThrow();
    expect(() => CausalLmOptions.parse({ path: '' })).toThrow();
    expect(CausalLmOptions.shape.path.description).toMatch(/model folder/);
  });
});

describeShared('loading', () => {
  let tmp: string;
  beforeAll(async () => {
    await useWasm();
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'causal-lm-'));
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  /** A copy of stories260K in a temp folder, minus `drop` files, with `edit` applied to its weights. */
  async function brokenCopy(name: string, drop: string[], edit?: (t: Record<string, { shape: number[]; data: Float32Array }>) => void): Promise<string> {
    const dir = path.join(tmp, name);
    await fs.mkdir(dir);
    const src = modelDir('stories260K');
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) if (!drop.includes(f)) await fs.copyFile(path.join(src, f), path.join(dir, f));
    if (!drop.includes('model.safetensors')) {
      const { tensors } = await readSafetensors(path.join(src, 'model.safetensors'));
      const out: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const [k, v] of tensors) out[k] = { shape: v.shape, data: v.data as Float32Array };
      edit?.(out);
      await writeSafetensors(path.join(dir, 'model.safetensors'), out);
    }
    return dir;
  }

  it('loads through the run session with the run context (relative path from the spec folder)', async () => {
    const lines: string[] = [];
    const run: RunContext = {
      seed: 0,
      rng: new Rng(0),
      log: { ...silentLogger, info: (m) => lines.push(m) },
      specDir: path.join(SHARED, 'models'),
      hub: { offline: true, cacheDir: tmp, endpoint: 'https://huggingface.co' },
    };
    const session = createRunSession({ context: run, backbone: { plugin, options: CausalLmOptions.parse({ path: 'stories260K', maxSeqLen: 64 }) } });
    const backbone = await session.loadBackbone();
    try {
      expect(backbone.id).toBe(modelDir('stories260K'));
      expect(backbone.config.numLayers).toBe(5);
      expect(backbone.encode(['Once upon a time '.repeat(40)]).ids[0]).toHaveLength(64);
      expect(lines.some((l) => /^model: .*stories260K \(llama, 5 layers, hidden 64, 8\/4 heads, vocab 512, 2\d\dK parameters\)$/.test(l))).toBe(true);
    } finally {
      backbone.dispose();
    }
  });

  it('names the missing folder', async () => {
    const missing = path.join(tmp, 'nope');
    await expect(loadCausalLm(missing)).rejects.toThrow(`${missing}: model folder not found`);
    await expect(loadCausalLm('./nope', { baseDir: tmp })).rejects.toThrow(ModelLoadError);
  });

  it('names a missing config.json or tokenizer.json', async () => {
    const noConfig = await brokenCopy('no-config', ['config.json']);
    await expect(loadCausalLm(noConfig)).rejects.toThrow(`${path.join(noConfig, 'config.json')}: missing`);
    const noTokenizer = await brokenCopy('no-tokenizer', ['tokenizer.json']);
    await expect(loadCausalLm(noTokenizer)).rejects.toThrow(`${path.join(noTokenizer, 'tokenizer.json')}: missing`);
  });

  it('names a missing weight file, a missing tensor and a wrong shape, and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const noWeights = await brokenCopy('no-weights', ['model.safetensors']);
    await expect(loadCausalLm(noWeights)).rejects.toThrow(`${noWeights}: no model.safetensors or model.safetensors.index.json in this folder`);
    const noTensor = await brokenCopy('no-tensor', [], (t) => delete t['model.layers.2.mlp.up_proj.weight']);
    await expect(loadCausalLm(noTensor)).rejects.toThrow(`${noTensor}: weight 'model.layers.2.mlp.up_proj.weight' is missing from model.safetensors`);
    const badShape = await brokenCopy('bad-shape', [], (t) => {
      t['model.norm.weight'] = { shape: [32], data: new Float32Array(32) };
    });
    await expect(loadCausalLm(badShape)).rejects.toThrow(`${badShape}: weight 'model.norm.weight' has shape [32], config.json implies [64]`);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads sharded BF16 weights through the index', async () => {
    const model = await loadCausalLm(modelDir('tiny-llama3'));
    try {
      expect(model.config).toMatchObject({ headDim: 16, numHeads: 6, numKeyValueHeads: 2, ropeScaling: { type: 'llama3', factor: 8 } });
      expect(model.sites()).toHaveLength(2 * 7 + 1);
    } finally {
      model.dispose();
    }
  });
});
