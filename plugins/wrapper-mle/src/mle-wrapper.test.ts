import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '@bayes-peft/tensor';
import { LoraConfigSchema, type Wrapper } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';
import { peftKey } from '@bayes-peft/lora';
import { ToyBackbone, disposeBatch, makeMcqBatch, makePlan, makeRunContext, setupTestBackend } from '@bayes-peft/testing-backbone';
import plugin, { MleWrapper } from './index';

beforeAll(setupTestBackend);

const lora = LoraConfigSchema.parse({ r: 4, alpha: 8 });
const PROMPTS = ['aab', 'bba', 'abab', 'baba', 'aaa', 'bbb', 'ab', 'ba'];
const ANSWERS = [0, 1, 0, 1, 0, 1, 0, 1];

function make(seed = 1, bbSeed = 0): { bb: ToyBackbone; w: MleWrapper } {
  const bb = new ToyBackbone({ seed: bbSeed });
  const w = new MleWrapper(makeRunContext(seed), lora, {});
  w.attach(bb);
  return { bb, w };
}

/** B = 0 makes a fresh adapter a no-op; tests that compare adapters need it non-zero. */
function randomizeB(w: MleWrapper, seed: number): void {
  tf.tidy(() => {
    w.variables()
      .filter((v) => /\/B#\d+$/.test(v.name))
      .forEach((v, i) => v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', seed + i)));
  });
}

async function logitsOf(w: Wrapper, bb: ToyBackbone): Promise<number[]> {
  const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
  const out = await w.predict(batch, { phase: 'final' });
  const data = Array.from(await out.data());
  out.dispose();
  disposeBatch(batch);
  return data;
}

describe('wrapper-mle plugin', () => {
  it('registers an injectable Wrapper bound to the run container', () => {
    expect(plugin.kind).toBe('wrapper');
    expect(plugin.name).toBe('mle');
    expect(plugin.options.parse(undefined)).toEqual({});
    expect(() => plugin.options.parse({ beta: 1 })).toThrow();
    const session = createRunSession({ context: makeRunContext(3), lora, wrapper: { plugin, options: plugin.options.parse({}) } });
    const w = session.wrapper();
    expect(w).toBeInstanceOf(MleWrapper);
    expect(session.wrapper()).toBe(w);
    expect(w.name).toBe('mle');
    expect(w.averaging).toBe('probs');
  });
});

describe('MleWrapper', () => {
  it('installs LoRA on q_proj, v_proj and lm_head; a fresh adapter leaves the logits unchanged', async () => {
    const bb = new ToyBackbone();
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    const plain = bb.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx: { training: false, rng: makeRunContext().rng } });
    const w = new MleWrapper(makeRunContext(1), lora, {});
    w.attach(bb);
    expect(bb.sites().every((s) => s.adapter !== null)).toBe(true);
    expect(w.variables()).toHaveLength(2 * bb.sites().length);
    const pred = await w.predict(batch, { phase: 'final' });
    expect(pred.shape).toEqual([PROMPTS.length, 1, 2]);
    expect(Array.from(pred.dataSync())).toEqual(Array.from(plain.dataSync()));
    expect(() => w.attach(bb)).toThrow(/already/);
    tf.dispose([plain, pred]);
    disposeBatch(batch);
    w.dispose();
    expect(bb.sites().every((s) => s.adapter === null)).toBe(true);
    bb.dispose();
  });

  it('reduces the loss on a learnable toy batch, with flat tensor counts across steps and predict', async () => {
    const { bb, w } = make();
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan({ totalSteps: 20, lr: 2e-2 }));
    const first = w.trainStep(batch, 0);
    const baseline = tf.memory().numTensors;
    const losses = [first.nll];
    for (let s = 1; s < 20; s++) {
      const r = w.trainStep(batch, s);
      losses.push(r.nll);
      expect(tf.memory().numTensors).toBe(baseline);
      expect(Object.values(r).every(Number.isFinite)).toBe(true);
    }
    for (let k = 0; k < 3; k++) (await w.predict(batch, { phase: 'intermediate' })).dispose();
    expect(tf.memory().numTensors).toBe(baseline);
    expect(losses[19]).toBeLessThan(0.5 * losses[0]);
    expect(first.lr).toBeCloseTo(2e-2, 10); // no warmup: full rate at step 0
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });

  it('applies the schedule and decoupled weight decay (MAP): with B = 0, A only decays by (1 - lr wd)', () => {
    const { bb, w } = make();
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan({ totalSteps: 10, warmupSteps: 2, lr: 0.1, weightDecay: 0.5 }));
    const A = w.variables().find((v) => /\/A#\d+$/.test(v.name))!;
    const a0 = Array.from(A.dataSync());
    expect(w.trainStep(batch, 0).lr).toBe(0); // warmup: factor(0) = 0
    expect(Array.from(A.dataSync())).toEqual(a0);
    const r1 = w.trainStep(batch, 1); // factor(1) = 1/2 -> lr 0.05; A's gradient is 0 while B is 0
    expect(r1.lr).toBeCloseTo(0.05, 12);
    Array.from(A.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(a0[i] * (1 - 0.05 * 0.5), 6));
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });

  it('is deterministic under a seed', () => {
    const run = (): number[] => {
      const { bb, w } = make(7);
      const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
      w.prepare(makePlan());
      for (let s = 0; s < 4; s++) w.trainStep(batch, s);
      const out = w.variables().flatMap((v) => Array.from(v.dataSync()));
      disposeBatch(batch);
      w.dispose();
      bb.dispose();
      return out;
    };
    expect(run()).toEqual(run());
  });

  it('saves the PEFT layout and loads it back to identical logits', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mle-'));
    const { bb, w } = make(1);
    randomizeB(w, 11);
    const before = await logitsOf(w, bb);
    await w.save(dir);
    const meta = JSON.parse(await fs.readFile(path.join(dir, 'bayes_peft.json'), 'utf8'));
    expect(meta).toEqual({ wrapper: 'mle', options: {} });
    const cfg = JSON.parse(await fs.readFile(path.join(dir, 'adapter_config.json'), 'utf8'));
    expect(cfg).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8 });

    const other = new MleWrapper(makeRunContext(99), lora, {});
    const bb2 = new ToyBackbone();
    other.attach(bb2);
    expect(await logitsOf(other, bb2)).not.toEqual(before);
    await other.load(dir);
    expect(await logitsOf(other, bb2)).toEqual(before);

    const wrong = new MleWrapper(makeRunContext(1), { ...lora, r: 2 }, {});
    const bb3 = new ToyBackbone();
    wrong.attach(bb3);
    await expect(wrong.load(dir)).rejects.toThrow(/r 4 \(run: 2\)/);
    for (const x of [w, other, wrong]) x.dispose();
    for (const b of [bb, bb2, bb3]) b.dispose();
    // the key layout PEFT expects
    const { readSafetensors } = await import('@bayes-peft/tensor');
    const { tensors } = await readSafetensors(path.join(dir, 'adapter_model.safetensors'));
    expect(tensors.has(peftKey('model.layers.0.self_attn.q_proj', 'lora_A'))).toBe(true);
    expect(tensors.get(peftKey('lm_head', 'lora_B'))!.shape).toEqual([32, 4]);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('throws a clear error naming the step on a non-finite loss, leaving the adapter untouched', () => {
    const { bb, w } = make();
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan());
    w.trainStep(batch, 0);
    const snapshot = w.variables().map((v) => Array.from(v.dataSync()));
    const before = tf.memory().numTensors;
    const forward = bb.forward.bind(bb);
    bb.forward = (b, o) => tf.tidy(() => tf.mul(forward(b, o), NaN));
    expect(() => w.trainStep(batch, 1)).toThrow(/non-finite loss at step 2 \(nll=NaN\)/);
    expect(tf.memory().numTensors).toBe(before);
    expect(w.variables().map((v) => Array.from(v.dataSync()))).toEqual(snapshot);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });

  it('generates one sequence per prompt ([B][1]) and resumes from a saved optimizer state', async () => {
    const { bb, w } = make();
    const gen = await w.generate(bb.encode(['ab', 'b']), {
      maxNewTokens: 3,
      temperature: 0,
      topP: 1,
      eosTokenId: null,
      ctx: { training: false, rng: makeRunContext().rng },
      phase: 'final',
    });
    expect(gen.map((g) => g.length)).toEqual([1, 1]);
    expect(gen[0][0].newIds).toHaveLength(3);

    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan());
    for (let s = 0; s < 3; s++) w.trainStep(batch, s);
    const state = w.getTrainingState()!;
    const saved = w.variables().map((v) => tf.clone(v));
    w.trainStep(batch, 3);
    const expected = w.variables().map((v) => Array.from(v.dataSync()));
    // roll back: parameters and optimizer state
    tf.tidy(() => w.variables().forEach((v, i) => v.assign(saved[i])));
    w.setTrainingState(state);
    w.trainStep(batch, 3);
    expect(w.variables().map((v) => Array.from(v.dataSync()))).toEqual(expected);
    tf.dispose(saved);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });
});

