import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '@bayes-peft/tensor';
import { LoraConfigSchema, NonFiniteLossError, Rng, UserError, type LoraConfig, type Wrapper } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';
import { ToyBackbone, disposeBatch, makeAnswerBatch, makeMcqBatch, makePlan, makeRunContext, setupTestBackend } from '@bayes-peft/testing-backbone';
import plugin, { McDropoutOptions, McDropoutWrapper } from './index';

beforeAll(setupTestBackend);

const lora = LoraConfigSchema.parse({ r: 4, alpha: 8 });
const PROMPTS = ['aab', 'bba', 'abab', 'baba', 'aaa', 'bbb', 'ab', 'ba'];
const ANSWERS = [0, 1, 0, 1, 0, 1, 0, 1];

function make(options: Partial<McDropoutOptions> = {}, seed = 1, loraConfig: LoraConfig = lora): { bb: ToyBackbone; w: McDropoutWrapper } {
  const bb = new ToyBackbone();
  const w = new McDropoutWrapper(makeRunContext(seed), loraConfig, McDropoutOptions.parse(options));
  w.attach(bb);
  return { bb, w };
}

const values = (w: Wrapper) => w.variables().map((v) => Array.from(v.dataSync()));

/** B = 0 makes a fresh adapter (and so its dropout) a no-op; tests of sampling need B non-zero. */
function randomizeB(w: McDropoutWrapper, seed: number): void {
  tf.tidy(() => [...w.adapters().values()].forEach((l, i) => l.lora.B.assign(tf.randomNormal(l.lora.B.shape, 0, 0.5, 'float32', seed + i))));
}

async function predictArray(w: Wrapper, bb: ToyBackbone, phase: 'intermediate' | 'final'): Promise<number[][][]> {
  const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
  const t = await w.predict(batch, { phase });
  const out = t.arraySync() as number[][][];
  t.dispose();
  disposeBatch(batch);
  return out;
}

describe('wrapper-mc-dropout plugin', () => {
  it('registers an injectable Wrapper; options default to dropout 0.1, 1 and 10 samples; dropout 0 is refused', () => {
    expect(plugin.kind).toBe('wrapper');
    expect(plugin.name).toBe('mc-dropout');
    expect(plugin.options.parse(undefined)).toEqual({ dropout: 0.1, evalSamples: 1, evalSamplesFinal: 10 });
    const zero = plugin.options.safeParse({ dropout: 0 });
    expect(zero.success).toBe(false);
    expect(zero.error!.issues[0].message).toMatch(/needs a dropout rate > 0/);
    expect(plugin.options.safeParse({ dropout: 1 }).success).toBe(false);
    expect(plugin.options.safeParse({ samples: 3 }).success).toBe(false);
    const session = createRunSession({ context: makeRunContext(3), lora, wrapper: { plugin, options: plugin.options.parse({ dropout: 0.2 }) } });
    const w = session.wrapper() as McDropoutWrapper;
    expect(w).toBeInstanceOf(McDropoutWrapper);
    expect([w.name, w.averaging, w.loraConfig.dropout]).toEqual(['mc-dropout', 'probs', 0.2]);
  });

  it('owns the LoRA dropout: lora.dropout must be 0 or equal, and 0 is refused even past the schema', () => {
    const ctx = makeRunContext(1);
    expect(new McDropoutWrapper(ctx, { ...lora, dropout: 0.1 }, McDropoutOptions.parse({})).loraConfig.dropout).toBe(0.1);
    expect(() => new McDropoutWrapper(ctx, { ...lora, dropout: 0.3 }, McDropoutOptions.parse({}))).toThrow(
      /lora\.dropout 0\.3 conflicts with the wrapper's dropout 0\.1/,
    );
    expect(() => new McDropoutWrapper(ctx, lora, { dropout: 0, evalSamples: 1, evalSamplesFinal: 10 })).toThrow(UserError);
  });
});

describe('McDropoutWrapper', () => {
  it('predicts S passes ([B, S, C]) that vary across samples at evaluation', async () => {
    const { bb, w } = make({ evalSamples: 2, evalSamplesFinal: 10 });
    randomizeB(w, 3);
    const final = await predictArray(w, bb, 'final');
    expect([final.length, final[0].length, final[0][0].length]).toEqual([PROMPTS.length, 10, 2]);
    expect((await predictArray(w, bb, 'intermediate'))[0]).toHaveLength(2);
    for (const row of final) expect(new Set(row.map((z) => z.join(','))).size).toBe(10);
    w.dispose();
    bb.dispose();
  });

  it('trains (loss falls) with flat tensor counts across 20 steps, predict and generate', async () => {
    const { bb, w } = make({ evalSamples: 3 });
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
    (await w.predict(batch, { phase: 'intermediate' })).dispose();
    (await w.predict(batch, { phase: 'final' })).dispose();
    await w.generate(bb.encode(['ab', 'b']), { maxNewTokens: 2, temperature: 0, topP: 1, eosTokenId: null, ctx: { training: false, rng: makeRunContext().rng }, phase: 'intermediate' });
    expect(tf.memory().numTensors).toBe(baseline);
    expect(losses.slice(-3).reduce((a, b) => a + b, 0) / 3).toBeLessThan(0.6 * first.nll);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });

  it('is deterministic under a seed (training and the sampled predictions)', async () => {
    const run = async (seed: number) => {
      const { bb, w } = make({ dropout: 0.3 }, seed);
      const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
      w.prepare(makePlan());
      const losses = [0, 1, 2, 3].map((s) => w.trainStep(batch, s).nll);
      const pred = await predictArray(w, bb, 'final');
      disposeBatch(batch);
      w.dispose();
      bb.dispose();
      return { losses, pred };
    };
    const a = await run(5);
    expect(await run(5)).toEqual(a);
    expect((await run(6)).pred).not.toEqual(a.pred);
  });

  it('throws NonFiniteLossError naming the step on a NaN loss, leaving the adapter untouched', () => {
    const { bb, w } = make();
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan());
    w.trainStep(batch, 0);
    const snapshot = values(w);
    const before = tf.memory().numTensors;
    const forward = bb.forward.bind(bb);
    bb.forward = (b, o) => tf.tidy(() => tf.mul(forward(b, o), NaN));
    expect(() => w.trainStep(batch, 1)).toThrow(NonFiniteLossError);
    expect(() => w.trainStep(batch, 1)).toThrow(/non-finite loss at step 2 \(nll=NaN\); mc-dropout: the adapter was not updated/);
    expect(tf.memory().numTensors).toBe(before);
    expect(values(w)).toEqual(snapshot);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });

  it('saves the PEFT layout (lora_dropout = the wrapper rate) and loads back to identical sampled predictions', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mcd-'));
    const { bb, w } = make({ dropout: 0.2, evalSamplesFinal: 4 });
    randomizeB(w, 11);
    const before = await predictArray(w, bb, 'final'); // the wrapper's first predict call: masks from predict/0
    await w.save(dir);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'adapter_config.json'), 'utf8'))).toMatchObject({ r: 4, lora_alpha: 8, lora_dropout: 0.2 });
    expect(JSON.parse(await fs.readFile(path.join(dir, 'bayes_peft.json'), 'utf8'))).toEqual({
      wrapper: 'mc-dropout',
      options: { dropout: 0.2, evalSamples: 1, evalSamplesFinal: 4 },
    });
    w.dispose();
    const other = new McDropoutWrapper(makeRunContext(1), lora, McDropoutOptions.parse({ dropout: 0.2, evalSamplesFinal: 4 }));
    other.attach(bb);
    randomizeB(other, 99);
    await other.load(dir);
    expect(await predictArray(other, bb, 'final')).toEqual(before);
    other.dispose();
    bb.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('generates [B][S], each sequence under one dropout mask fixed across its decoding steps, new per sample', async () => {
    const { bb, w } = make({ evalSamplesFinal: 3, dropout: 0.5 });
    randomizeB(w, 4);
    const head = w.adapters().get('lm_head')!;
    const seen: number[][][] = []; // per forward call, the head's mask rows
    const forward = bb.forward.bind(bb);
    bb.forward = (b, o) => {
      seen.push(head.mask(o.ctx.sample)!.arraySync() as number[][]);
      return forward(b, o);
    };
    const enc = bb.encode(['ab', 'ba', 'aab']);
    const steps = 4;
    const gen = await w.generate(enc, { maxNewTokens: steps, temperature: 0, topP: 1, eosTokenId: null, ctx: { training: false, rng: makeRunContext().rng }, phase: 'final' });
    expect(gen.map((g) => g.length)).toEqual([3, 3, 3]);
    expect(gen[0][0].newIds).toHaveLength(steps);
    expect(seen).toHaveLength(3 * steps); // the toy backbone runs one forward per decoding step
    for (let s = 0; s < 3; s++) {
      const calls = seen.slice(s * steps, (s + 1) * steps);
      expect(calls[0]).toHaveLength(3); // one mask row per sequence, [B, in]
      for (const c of calls) expect(c).toEqual(calls[0]); // fixed across decoding steps
      expect(new Set(calls[0].map((r) => r.join(','))).size).toBe(3); // each sequence its own mask
    }
    expect(seen[steps]).not.toEqual(seen[0]); // a new mask per sample
    expect(head.mask()).toBeNull(); // released afterwards
    bb.forward = forward;
    w.dispose();
    bb.dispose();
  });

  it('resumes from a saved optimizer state bit-for-bit', () => {
    const { bb, w } = make();
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan());
    for (let s = 0; s < 3; s++) w.trainStep(batch, s);
    const state = w.getTrainingState()!;
    const saved = w.variables().map((v) => tf.clone(v));
    w.trainStep(batch, 3);
    const expected = values(w);
    tf.tidy(() => w.variables().forEach((v, i) => v.assign(saved[i])));
    w.setTrainingState(state);
    w.trainStep(batch, 3);
    expect(values(w)).toEqual(expected);
    tf.dispose(saved);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });
});

describe('McDropoutWrapper on answer batches (every position of a sequence)', () => {
  it("fixed per-sequence masks cover every position of an output 'all' forward: its last position is the 'last' forward, and nothing is drawn", () => {
    const { bb, w } = make({ dropout: 0.5 });
    randomizeB(w, 4);
    const batch = makeAnswerBatch(bb, ['ab', 'bca', 'c'], ['ca', 'b', 'abc']);
    const [B, T] = batch.tokens.inputIds.shape;
    for (const [site, layer] of w.adapters()) layer.fixMasks(B, [new Rng(9).child(site)]);
    const at = (seed: number) => ({ training: false, rng: new Rng(seed), sample: 0 });
    const [all, again, last] = tf.tidy(() => [
      bb.forward(batch.tokens, { output: 'all', ctx: at(1) }).arraySync() as number[][][],
      bb.forward(batch.tokens, { output: 'all', ctx: at(2) }).arraySync() as number[][][],
      bb.forward(batch.tokens, { output: 'last', ctx: at(3) }).arraySync() as number[][],
    ]);
    expect(again).toEqual(all); // the masks are fixed: another stream changes nothing
    all.forEach((rows, b) => rows[T - 1].forEach((v, k) => expect(v).toBeCloseTo(last[b][k], 4)));
    for (const layer of w.adapters().values()) layer.releaseMask();
    // without fixed masks every element draws its own: two streams give two outputs
    const [free1, free2] = tf.tidy(() => [1, 2].map((s) => bb.forward(batch.tokens, { output: 'all', ctx: at(s) }).arraySync()));
    expect(free1).not.toEqual(free2);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });

  it('trains on answer tokens with dropout over [B, T, in] inputs: the answer NLL falls, tensor counts stay flat', () => {
    const { bb, w } = make({ dropout: 0.1 });
    w.prepare(makePlan({ lr: 0.05 }));
    const batch = makeAnswerBatch(bb, ['ab', 'bca', 'c'], ['ca', 'b', 'abc']);
    const first = w.trainStep(batch, 0);
    const count = tf.memory().numTensors;
    let last = first;
    for (let s = 1; s < 10; s++) last = w.trainStep(batch, s);
    expect(tf.memory().numTensors).toBe(count);
    expect(last.nll).toBeLessThan(first.nll);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });
});
