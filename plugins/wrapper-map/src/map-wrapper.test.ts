import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '@bayes-peft/tensor';
import { LoraConfigSchema, NonFiniteLossError, type Logger, type Wrapper } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';
import { peftKey } from '@bayes-peft/lora';
import { ToyBackbone, disposeBatch, makeMcqBatch, makePlan, makeRunContext, setupTestBackend } from '@bayes-peft/testing-backbone';
import plugin, { MapOptions, MapWrapper } from './index';

beforeAll(setupTestBackend);

const lora = LoraConfigSchema.parse({ r: 4, alpha: 8 });
const PROMPTS = ['aab', 'bba', 'abab', 'baba', 'aaa', 'bbb', 'ab', 'ba'];
const ANSWERS = [0, 1, 0, 1, 0, 1, 0, 1];

function make(options: Partial<MapOptions> = {}, seed = 1, log?: Logger): { bb: ToyBackbone; w: MapWrapper } {
  const bb = new ToyBackbone();
  const w = new MapWrapper(makeRunContext(seed, log ? { log } : {}), lora, MapOptions.parse(options));
  w.attach(bb);
  return { bb, w };
}

const isA = (v: tf.Variable) => /\/A#\d+$/.test(v.name);
const isB = (v: tf.Variable) => /\/B#\d+$/.test(v.name);
const values = (w: Wrapper) => w.variables().map((v) => Array.from(v.dataSync()));

/** B = 0 makes a fresh adapter a no-op (and A's NLL gradient 0); tests that need both non-zero set B. */
function randomizeB(w: MapWrapper, seed: number): void {
  tf.tidy(() => w.variables().filter(isB).forEach((v, i) => v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', seed + i))));
}

describe('wrapper-map plugin', () => {
  it('registers an injectable Wrapper; options default to weight decay 1e-5 and no prior', () => {
    expect(plugin.kind).toBe('wrapper');
    expect(plugin.name).toBe('map');
    expect(plugin.options.parse(undefined)).toEqual({ weightDecay: 1e-5, priorStd: null });
    expect(() => plugin.options.parse({ priorStd: 0 })).toThrow();
    expect(() => plugin.options.parse({ weightDecay: -1 })).toThrow();
    expect(() => plugin.options.parse({ beta: 1 })).toThrow();
    const session = createRunSession({ context: makeRunContext(3), lora, wrapper: { plugin, options: plugin.options.parse({ priorStd: 0.1 }) } });
    const w = session.wrapper() as MapWrapper;
    expect(w).toBeInstanceOf(MapWrapper);
    expect(session.wrapper()).toBe(w);
    expect([w.name, w.averaging, w.options.priorStd]).toEqual(['map', 'probs', 0.1]);
  });
});

describe('MapWrapper', () => {
  it('weight decay: with zero gradients A shrinks by (1 - lr wd) every step; the option beats train.weightDecay', () => {
    const warnings: string[] = [];
    const log: Logger = { info() {}, debug() {}, warn: (m) => warnings.push(m) };
    const { bb, w } = make({ weightDecay: 0.5 }, 1, log);
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    // logits times 0: the loss is log 2 whatever the adapter, every gradient is exactly 0
    const forward = bb.forward.bind(bb);
    bb.forward = (b, o) => tf.tidy(() => tf.mul(forward(b, o), 0));
    w.prepare(makePlan({ totalSteps: 10, warmupSteps: 2, lr: 0.1, weightDecay: 0.3 }));
    expect(warnings).toEqual([expect.stringMatching(/train\.weightDecay 0\.3 is ignored; the wrapper's weightDecay 0\.5 applies/)]);
    const As = w.variables().filter(isA);
    const a0 = As.map((v) => Array.from(v.dataSync()));
    let factor = 1;
    for (let s = 0; s < 4; s++) {
      const r = w.trainStep(batch, s);
      expect(r.nll).toBeCloseTo(Math.log(2), 6);
      factor *= 1 - r.lr * 0.5; // lr: 0, 0.05, 0.1 * 8/8, 0.1 * 7/8
      As.forEach((v, k) => Array.from(v.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(a0[k][i] * factor, 6)));
    }
    expect(factor).toBeCloseTo((1 - 0.05 * 0.5) * (1 - 0.1 * 0.5) * (1 - 0.0875 * 0.5), 12);
    expect(w.variables().filter(isB).every((v) => v.dataSync().every((x) => x === 0))).toBe(true);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });

  it('the prior adds exactly theta / (sigma_p^2 N) to every gradient (SGD, no decay: the one-step difference is lr theta / (sigma_p^2 N))', () => {
    const plan = makePlan({ optimizer: 'sgd', lr: 0.1, numTrainExamples: 20 });
    const runs = [null, 0.5].map((priorStd) => {
      const { bb, w } = make({ weightDecay: 0, priorStd });
      randomizeB(w, 5);
      const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
      w.prepare(plan);
      const theta0 = values(w);
      const r = w.trainStep(batch, 0);
      const after = values(w);
      disposeBatch(batch);
      w.dispose();
      bb.dispose();
      return { theta0, after, r };
    });
    const [plain, withPrior] = runs;
    expect(withPrior.theta0).toEqual(plain.theta0);
    const scale = (0.1 / (0.5 * 0.5 * 20)); // lr / (sigma^2 N) = 0.02
    let sumSq = 0;
    plain.theta0.forEach((t, k) =>
      t.forEach((x, i) => {
        sumSq += x * x;
        expect(plain.after[k][i] - withPrior.after[k][i]).toBeCloseTo(scale * x, 6);
      }),
    );
    // the logged prior term is sum(theta^2) / (2 sigma^2 N), and the loss includes it
    expect(withPrior.r.prior).toBeCloseTo(sumSq / (2 * 0.25 * 20), 4);
    expect(withPrior.r.loss).toBeCloseTo(withPrior.r.nll + withPrior.r.prior, 6);
    expect(withPrior.r.nll).toBeCloseTo(plain.r.nll, 6);
    expect(plain.r.prior).toBeUndefined();
  });

  it('reduces the loss, with flat tensor counts across 20 steps and predict', async () => {
    const { bb, w } = make({ priorStd: 1 });
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan({ totalSteps: 20, lr: 2e-2 }));
    const first = w.trainStep(batch, 0);
    const baseline = tf.memory().numTensors;
    let last = first;
    for (let s = 1; s < 20; s++) {
      last = w.trainStep(batch, s);
      expect(tf.memory().numTensors).toBe(baseline);
      expect(Object.values(last).every(Number.isFinite)).toBe(true);
    }
    for (let k = 0; k < 3; k++) {
      const p = await w.predict(batch, { phase: k === 2 ? 'final' : 'intermediate' });
      expect(p.shape).toEqual([PROMPTS.length, 1, 2]);
      p.dispose();
    }
    expect(tf.memory().numTensors).toBe(baseline);
    expect(last.nll).toBeLessThan(0.5 * first.nll);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });

  it('is deterministic under a seed, and another seed starts elsewhere', () => {
    const run = (seed: number): number[] => {
      const { bb, w } = make({ priorStd: 0.3 }, seed);
      const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
      w.prepare(makePlan());
      for (let s = 0; s < 4; s++) w.trainStep(batch, s);
      const out = values(w).flat();
      disposeBatch(batch);
      w.dispose();
      bb.dispose();
      return out;
    };
    expect(run(7)).toEqual(run(7));
    expect(run(8)).not.toEqual(run(7));
  });

  it('throws NonFiniteLossError naming the step on a NaN loss, leaving the adapter untouched', () => {
    const { bb, w } = make({ priorStd: 1 });
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan());
    w.trainStep(batch, 0);
    const snapshot = values(w);
    const before = tf.memory().numTensors;
    const forward = bb.forward.bind(bb);
    bb.forward = (b, o) => tf.tidy(() => tf.mul(forward(b, o), NaN));
    let err: unknown;
    try {
      w.trainStep(batch, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as Error).message).toMatch(/non-finite loss at step 2 \(nll=NaN, prior=[\d.e-]+\); map: the adapter was not updated/);
    expect(tf.memory().numTensors).toBe(before);
    expect(values(w)).toEqual(snapshot);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });

  it('saves the PEFT layout and loads it back to identical logits', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'map-'));
    const { bb, w } = make({ priorStd: 0.2 });
    randomizeB(w, 11);
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    const logits = async (x: Wrapper) => {
      const t = await x.predict(batch, { phase: 'final' });
      const d = Array.from(t.dataSync());
      t.dispose();
      return d;
    };
    const before = await logits(w);
    await w.save(dir);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'bayes_peft.json'), 'utf8'))).toEqual({ wrapper: 'map', options: { weightDecay: 1e-5, priorStd: 0.2 } });
    const { readSafetensors } = await import('@bayes-peft/tensor');
    const { tensors } = await readSafetensors(path.join(dir, 'adapter_model.safetensors'));
    expect(tensors.has(peftKey('model.layers.0.self_attn.q_proj', 'lora_A'))).toBe(true);
    w.dispose();
    const other = new MapWrapper(makeRunContext(99), lora, MapOptions.parse({}));
    other.attach(bb);
    expect(await logits(other)).not.toEqual(before);
    await other.load(dir);
    expect(await logits(other)).toEqual(before);
    other.dispose();
    disposeBatch(batch);
    bb.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('generates one sequence per prompt ([B][1]) and resumes from a saved optimizer state', async () => {
    const { bb, w } = make({ priorStd: 0.5, weightDecay: 0.1 });
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
