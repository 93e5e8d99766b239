import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '@bayes-peft/tensor';
import { LoraConfigSchema, Rng } from '@bayes-peft/core';
import { ToyBackbone, disposeBatch, makeMcqBatch, makeRunContext, setupTestBackend } from '@bayes-peft/testing-backbone';
import { ZeroShotOptions, ZeroShotWrapper } from './index';

beforeAll(setupTestBackend);

// The run's lora section as a spec would give it (its targets are replaced by the wrapper's).
const lora = LoraConfigSchema.parse({ r: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'lm_head'] });
const PROMPTS = ['aab', 'bba', 'abab'];

function make(options: Partial<ZeroShotOptions> = {}, seed = 1): { bb: ToyBackbone; w: ZeroShotWrapper } {
  const bb = new ToyBackbone();
  const w = new ZeroShotWrapper(makeRunContext(seed), lora, ZeroShotOptions.parse(options));
  w.attach(bb);
  return { bb, w };
}

async function predictValues(w: ZeroShotWrapper, bb: ToyBackbone): Promise<number[][][]> {
  const batch = makeMcqBatch(bb, PROMPTS, [0, 1, 0]);
  try {
    const p = await w.predict(batch, { phase: 'final' });
    const v = p.arraySync();
    p.dispose();
    return v;
  } finally {
    disposeBatch(batch);
  }
}

describe('ZeroShotWrapper', () => {
  it("is training-free, with the reference's defaults, its own targets and the run's rank and alpha; A0 is the run's LoRA init, B0 = 0", () => {
    const { bb, w } = make();
    expect(w.trainingFree).toBe(true);
    expect(w.options).toEqual({ sigma: 0.05, noise: 'gaussian', perturb: 'a-and-b', samples: 5, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });
    expect(w.loraConfig).toEqual({ ...lora, targets: w.options.targets });
    // the toy backbone has q_proj, v_proj and lm_head: the seven projections match its q and v, not the head
    expect([...w.adapters().keys()]).toEqual(['model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.v_proj', 'model.layers.1.self_attn.q_proj', 'model.layers.1.self_attn.v_proj']);
    for (const l of w.adapters().values()) {
      expect(Math.max(...l.lora.B.dataSync().map(Math.abs))).toBe(0);
      const bound = 1 / Math.sqrt(l.lora.site.inFeatures);
      expect(Math.max(...l.lora.A.dataSync().map(Math.abs))).toBeLessThanOrEqual(bound);
    }
    expect(() => w.trainStep()).toThrow(/training-free/);
    w.dispose();
    bb.dispose();
  });

  it('predicts [B, samples, C]: the weight samples differ, repeat under the same seed, and differ under another', async () => {
    const a = make({ samples: 4, sigma: 0.5 });
    const b = make({ samples: 4, sigma: 0.5 });
    const c = make({ samples: 4, sigma: 0.5 }, 2);
    const before = tf.memory().numTensors;
    const pa = await predictValues(a.w, a.bb);
    expect(tf.memory().numTensors).toBe(before);
    expect(pa.map((row) => row.length)).toEqual([4, 4, 4]);
    expect(new Set(pa[0].map((s) => s.join(','))).size).toBe(4);
    expect(await predictValues(b.w, b.bb)).toEqual(pa);
    expect(await predictValues(c.w, c.bb)).not.toEqual(pa);
    // the run's second predict draws new weight samples
    expect(await predictValues(a.w, a.bb)).not.toEqual(pa);
    for (const { w, bb } of [a, b, c]) (w.dispose(), bb.dispose());
  });

  it('without noise it is the base model: sigma -> 0 gives the frozen logits in every sample', async () => {
    const { bb, w } = make({ samples: 2, sigma: 1e-12 });
    const p = await predictValues(w, bb);
    const batch = makeMcqBatch(bb, PROMPTS, [0, 1, 0]);
    w.dispose();
    const base = bb.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx: { training: false, rng: new Rng(0) } });
    const m = base.arraySync() as number[][];
    p.forEach((row, i) => row.forEach((s) => s.forEach((v, k) => expect(v).toBeCloseTo(m[i][k], 6))));
    tf.dispose(base);
    disposeBatch(batch);
    bb.dispose();
  });

  it('generates [B][S], each sequence under one weight draw fixed across its decoding steps, new per sample, released afterwards', async () => {
    const { bb, w } = make({ samples: 3, sigma: 0.5 });
    const site = w.adapters().get('model.layers.1.self_attn.v_proj')!;
    const seen: number[][] = []; // per forward call, that site's fixed E_B
    const forward = bb.forward.bind(bb);
    bb.forward = (b, o) => {
      seen.push(Array.from(site.fixedNoise(o.ctx.sample)!.eB.dataSync()));
      return forward(b, o);
    };
    const steps = 4;
    const gen = await w.generate(bb.encode(['ab', 'ba']), { maxNewTokens: steps, temperature: 0, topP: 1, eosTokenId: null, ctx: { training: false, rng: new Rng(3) }, phase: 'final' });
    expect(gen.map((g) => g.length)).toEqual([3, 3]);
    expect(seen).toHaveLength(3 * steps); // one forward per decoding step
    for (let s = 0; s < 3; s++) for (let k = 1; k < steps; k++) expect(seen[s * steps + k]).toEqual(seen[s * steps]);
    expect(seen[steps]).not.toEqual(seen[0]);
    expect(site.fixedNoise()).toBeNull();
    bb.forward = forward;
    w.dispose();
    bb.dispose();
  });

  it("perturb 'b' leaves A0 as it is and draws only E_B", async () => {
    const { bb, w } = make({ samples: 2, perturb: 'b', sigma: 0.5 });
    const site = w.adapters().get('model.layers.0.self_attn.q_proj')!;
    const forward = bb.forward.bind(bb);
    const draws: { a: boolean; b: number }[] = [];
    bb.forward = (b, o) => {
      const n = site.fixedNoise(o.ctx.sample)!;
      draws.push({ a: n.eA !== null, b: n.eB.size });
      return forward(b, o);
    };
    await w.generate(bb.encode(['ab']), { maxNewTokens: 1, temperature: 0, topP: 1, eosTokenId: null, ctx: { training: false, rng: new Rng(3) }, phase: 'final' });
    expect(draws).toEqual([
      { a: false, b: 16 * 4 },
      { a: false, b: 16 * 4 },
    ]);
    bb.forward = forward;
    w.dispose();
    bb.dispose();
  });

  it('loads an adapter (its A, B become the perturbed mean) and saves its own in the PEFT layout', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zero-shot-'));
    try {
      const a = make({ samples: 2 });
      tf.tidy(() => a.w.adapters().forEach((l) => l.lora.B.assign(tf.randomNormal(l.lora.B.shape, 0, 0.3, 'float32', 9))));
      await a.w.save(dir);
      const meta = JSON.parse(await fs.readFile(path.join(dir, 'bayes_peft.json'), 'utf8'));
      expect(meta).toEqual({ wrapper: 'zero-shot-bayes', options: a.w.options });
      const config = JSON.parse(await fs.readFile(path.join(dir, 'adapter_config.json'), 'utf8'));
      expect(config.target_modules).toEqual(a.w.options.targets);
      const b = make({ samples: 2 });
      await b.w.load(dir);
      expect(await predictValues(b.w, b.bb)).toEqual(await predictValues(a.w, a.bb));
      for (const { w, bb } of [a, b]) (w.dispose(), bb.dispose());
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses options outside their ranges', () => {
    expect(ZeroShotOptions.safeParse({ sigma: 0 }).success).toBe(false);
    expect(ZeroShotOptions.safeParse({ noise: 'uniform' }).success).toBe(false);
    expect(ZeroShotOptions.safeParse({ perturb: 'a' }).success).toBe(false);
    expect(ZeroShotOptions.safeParse({ samples: 0 }).success).toBe(false);
    expect(ZeroShotOptions.safeParse({ targets: [] }).success).toBe(false);
  });
});
