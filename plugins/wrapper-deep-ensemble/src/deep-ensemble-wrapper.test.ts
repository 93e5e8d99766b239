import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '@bayes-peft/tensor';
import { LoraConfigSchema, NonFiniteLossError, Rng, combineSamples, type Wrapper } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';
import { installLora, peftKey } from '@bayes-peft/lora';
import { ToyBackbone, disposeBatch, makeAnswerBatch, makeMcqBatch, makePlan, makeRunContext, setupTestBackend } from '@bayes-peft/testing-backbone';
import plugin, { DeepEnsembleOptions, DeepEnsembleWrapper, memberStateKey } from './index';

beforeAll(setupTestBackend);

const lora = LoraConfigSchema.parse({ r: 4, alpha: 8 });
const PROMPTS = ['aab', 'bba', 'abab', 'baba', 'aaa', 'bbb', 'ab', 'ba'];
const ANSWERS = [0, 1, 0, 1, 0, 1, 0, 1];

function make(options: Partial<DeepEnsembleOptions> = {}, seed = 1): { bb: ToyBackbone; w: DeepEnsembleWrapper } {
  const bb = new ToyBackbone();
  const w = new DeepEnsembleWrapper(makeRunContext(seed), lora, DeepEnsembleOptions.parse(options));
  w.attach(bb);
  return { bb, w };
}

const data = (vs: tf.Variable[]) => vs.map((v) => Array.from(v.dataSync()));
const isA = (v: tf.Variable) => /\/A#\d+$/.test(v.name);

async function predictArray(w: Wrapper, bb: ToyBackbone): Promise<number[][][]> {
  const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
  const t = await w.predict(batch, { phase: 'final' });
  const out = t.arraySync() as number[][][];
  t.dispose();
  disposeBatch(batch);
  return out;
}

function randomizeB(w: DeepEnsembleWrapper, seed: number): void {
  tf.tidy(() =>
    w
      .variables()
      .filter((v) => !isA(v))
      .forEach((v, i) => v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', seed + i))),
  );
}

describe('wrapper-deep-ensemble plugin', () => {
  it("registers an injectable Wrapper; 3 members averaging probs by default, 'logits' on request", () => {
    expect(plugin.kind).toBe('wrapper');
    expect(plugin.name).toBe('deep-ensemble');
    expect(plugin.options.parse(undefined)).toEqual({ members: 3, averaging: 'probs' });
    expect(plugin.options.safeParse({ members: 0 }).success).toBe(false);
    expect(plugin.options.safeParse({ averaging: 'mean' }).success).toBe(false);
    const session = createRunSession({ context: makeRunContext(3), lora, wrapper: { plugin, options: plugin.options.parse({ averaging: 'logits' }) } });
    const w = session.wrapper() as DeepEnsembleWrapper;
    expect(w).toBeInstanceOf(DeepEnsembleWrapper);
    expect([w.name, w.averaging, w.members]).toEqual(['deep-ensemble', 'logits', 3]);
    expect(new DeepEnsembleWrapper(makeRunContext(1), lora, DeepEnsembleOptions.parse({})).averaging).toBe('probs');
  });
});

describe('DeepEnsembleWrapper', () => {
  it("gives each member its own LoRA init (member 0 = the run's lora stream, as MLE); one switching adapter per site", () => {
    const { bb, w } = make({ members: 3 });
    expect(w.adapters().size).toBe(bb.sites().length);
    expect(bb.sites().every((s) => w.adapters().get(s.name) === s.adapter)).toBe(true);
    expect(w.variables()).toHaveLength(3 * 2 * bb.sites().length);
    const As = [0, 1, 2].map((m) => data(w.memberVariables(m).filter(isA)));
    expect(As[1]).not.toEqual(As[0]);
    expect(As[2]).not.toEqual(As[1]);
    // member 0's A is what installLora draws from the run's 'lora' stream (an MLE run of seed 1)
    const ref = new ToyBackbone();
    const plain = installLora(ref, lora, new Rng(1).child('lora'));
    expect(As[0]).toEqual([...plain.values()].map(({ lora: l }) => Array.from(l.A.dataSync())));
    for (const { lora: l } of plain.values()) l.dispose();
    ref.dispose();
    w.dispose();
    expect(bb.sites().every((s) => s.adapter === null)).toBe(true);
    bb.dispose();
  });

  it('trains every member on each batch; the logged loss is the mean of the members\' NLLs; members stay different', async () => {
    const { bb, w } = make({ members: 3 });
    randomizeB(w, 2);
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    // each member's batch NLL, by hand from predict's per-member logits (no dropout: predict = the training forward)
    const z = await predictArray(w, bb);
    const nllOf = (m: number) => -ANSWERS.reduce((s, y, b) => s + Math.log(combineSamples([z[b][m]], 'probs').probs[y]), 0) / ANSWERS.length;
    w.prepare(makePlan({ lr: 0.05 }));
    const before = [0, 1, 2].map((m) => data(w.memberVariables(m)));
    const r = w.trainStep(batch, 0);
    [0, 1, 2].forEach((m) => expect(r[`member${m}_nll`]).toBeCloseTo(nllOf(m), 5));
    expect(r.loss).toBeCloseTo((nllOf(0) + nllOf(1) + nllOf(2)) / 3, 5);
    expect(r.nll).toBe(r.loss);
    [0, 1, 2].forEach((m) => expect(data(w.memberVariables(m))).not.toEqual(before[m])); // every member stepped
    for (let s = 1; s < 5; s++) w.trainStep(batch, s);
    const after = [0, 1, 2].map((m) => data(w.memberVariables(m)));
    expect(after[1]).not.toEqual(after[0]);
    expect(after[2]).not.toEqual(after[0]);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });

  it('predicts [B, n, C]; the runner combines by the averaging rule, matching a hand computation for both rules', async () => {
    for (const averaging of ['probs', 'logits'] as const) {
      const { bb, w } = make({ members: 3, averaging });
      randomizeB(w, 7);
      const z = await predictArray(w, bb);
      expect([z.length, z[0].length, z[0][0].length]).toEqual([PROMPTS.length, 3, 2]);
      expect(new Set(z[0].map((r) => r.join(','))).size).toBe(3); // members disagree
      z.forEach((members) => {
        const sm = (v: number[]) => {
          const e = v.map((x) => Math.exp(x - Math.max(...v)));
          return e.map((x) => x / e.reduce((a, b) => a + b, 0));
        };
        const want =
          averaging === 'probs'
            ? [0, 1].map((c) => (sm(members[0])[c] + sm(members[1])[c] + sm(members[2])[c]) / 3)
            : sm([0, 1].map((c) => (members[0][c] + members[1][c] + members[2][c]) / 3));
        combineSamples(members, w.averaging).probs.forEach((p, c) => expect(p).toBeCloseTo(want[c], 6));
      });
      w.dispose();
      bb.dispose();
    }
  });

  it('is leak-free across 20 steps, predict and generate, and learns', async () => {
    const { bb, w } = make({ members: 2 });
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
    (await w.predict(batch, { phase: 'intermediate' })).dispose();
    const gen = await w.generate(bb.encode(['ab', 'b']), { maxNewTokens: 2, temperature: 0, topP: 1, eosTokenId: null, ctx: { training: false, rng: makeRunContext().rng }, phase: 'final' });
    expect(gen.map((g) => g.length)).toEqual([2, 2]); // [B][n]
    expect(tf.memory().numTensors).toBe(baseline);
    expect(last.loss).toBeLessThan(0.5 * first.loss);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });

  it('is deterministic under a seed', async () => {
    const run = async (seed: number) => {
      const { bb, w } = make({ members: 2 }, seed);
      const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
      w.prepare(makePlan());
      const losses = [0, 1, 2].map((s) => w.trainStep(batch, s).loss);
      const out = { losses, vars: data(w.variables()), pred: await predictArray(w, bb) };
      disposeBatch(batch);
      w.dispose();
      bb.dispose();
      return out;
    };
    const a = await run(3);
    expect(await run(3)).toEqual(a);
    expect((await run(4)).vars).not.toEqual(a.vars);
  });

  it('throws NonFiniteLossError naming the step and member; no member is updated', () => {
    const { bb, w } = make({ members: 3 });
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan());
    w.trainStep(batch, 0);
    const snapshot = data(w.variables());
    const before = tf.memory().numTensors;
    const forward = bb.forward.bind(bb);
    let calls = 0;
    // only member 1's forward (the second of each step) goes bad
    bb.forward = (b, o) => tf.tidy(() => (calls++ % 3 === 1 ? tf.mul(forward(b, o), NaN) : forward(b, o)));
    let err: unknown;
    try {
      w.trainStep(batch, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as Error).message).toMatch(/non-finite loss at step 2 \(member1_nll=NaN\); deep-ensemble: no member was updated/);
    expect(tf.memory().numTensors).toBe(before);
    expect(data(w.variables())).toEqual(snapshot);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });

  it('saves every member in the PEFT layout (root + adapter_<m>/) and loads each back to identical predictions', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'de-'));
    const { bb, w } = make({ members: 3 });
    randomizeB(w, 11);
    const before = await predictArray(w, bb);
    await w.save(dir);
    expect((await fs.readdir(dir)).sort()).toEqual(['adapter_1', 'adapter_2', 'adapter_config.json', 'adapter_model.safetensors', 'bayes_peft.json']);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'bayes_peft.json'), 'utf8'))).toEqual({ wrapper: 'deep-ensemble', options: { members: 3, averaging: 'probs' }, member: 0 });
    const { readSafetensors } = await import('@bayes-peft/tensor');
    const roots = await Promise.all(['', 'adapter_1', 'adapter_2'].map((d) => readSafetensors(path.join(dir, d, 'adapter_model.safetensors'))));
    const key = peftKey('lm_head', 'lora_B');
    const heads = roots.map((r) => Array.from(r.tensors.get(key)!.data));
    expect(heads[1]).not.toEqual(heads[0]); // each folder holds its own member
    expect(heads[2]).not.toEqual(heads[1]);
    w.dispose();

    const other = new DeepEnsembleWrapper(makeRunContext(42), lora, DeepEnsembleOptions.parse({ members: 3 }));
    other.attach(bb);
    expect(await predictArray(other, bb)).not.toEqual(before);
    await other.load(dir);
    const after = await predictArray(other, bb);
    expect(after).toEqual(before); // every member, bit for bit
    other.dispose();

    const two = new DeepEnsembleWrapper(makeRunContext(1), lora, DeepEnsembleOptions.parse({ members: 2 }));
    two.attach(bb);
    await expect(two.load(dir)).rejects.toThrow(/holds 3 ensemble members \(the root and adapter_1\.\.adapter_2\), this run's deep ensemble has members: 2/);
    two.dispose();
    bb.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('resumes with one optimizer state per member', () => {
    const { bb, w } = make({ members: 2 });
    const batch = makeMcqBatch(bb, PROMPTS, ANSWERS);
    w.prepare(makePlan());
    for (let s = 0; s < 3; s++) w.trainStep(batch, s);
    const state = w.getTrainingState()!;
    expect(Object.keys(state)).toEqual([memberStateKey(0), memberStateKey(1)]);
    const saved = w.variables().map((v) => tf.clone(v));
    w.trainStep(batch, 3);
    const expected = data(w.variables());
    tf.tidy(() => w.variables().forEach((v, i) => v.assign(saved[i])));
    w.setTrainingState(state);
    w.trainStep(batch, 3);
    expect(data(w.variables())).toEqual(expected);
    expect(() => w.setTrainingState({ 'member-0': state['member-0'] })).toThrow(/needs \[member-0, member-1\]/);
    tf.dispose(saved);
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });
});

describe('DeepEnsembleWrapper on answer batches', () => {
  it("trains every member on the answer tokens: each member's NLL is its own answer-token NLL, the reported one their mean", () => {
    const { bb, w } = make({ members: 3 });
    randomizeB(w, 6);
    w.prepare(makePlan({ lr: 0.05 }));
    const batch = makeAnswerBatch(bb, ['ab', 'bca', 'c'], ['ca', 'b', 'abc']);
    // each member's answer NLL before the step, through the member switch (no dropout: deterministic)
    const targets = batch.targets.arraySync();
    const weights = batch.weights.arraySync();
    const memberNll = (m: number): number => {
      w.adapters().forEach((l) => (l.active = m));
      const logits = tf.tidy(() => bb.forward(batch.tokens, { output: 'all', ctx: { training: false, rng: new Rng(0) } }).arraySync() as number[][][]);
      w.adapters().forEach((l) => (l.active = 0));
      let sum = 0;
      let n = 0;
      logits.forEach((rows, b) =>
        rows.forEach((row, t) => {
          if (weights[b][t] !== 1) return;
          sum += Math.log(row.reduce((a, z) => a + Math.exp(z), 0)) - row[targets[b][t]];
          n++;
        }),
      );
      return sum / n;
    };
    const want = [0, 1, 2].map(memberNll);
    expect(new Set(want).size).toBe(3); // the members differ
    const before = w.variables().map((v) => Array.from(v.dataSync()));
    const r = w.trainStep(batch, 0);
    want.forEach((nll, m) => expect(r[`member${m}_nll`]).toBeCloseTo(nll, 4));
    expect(r.nll).toBeCloseTo((want[0] + want[1] + want[2]) / 3, 4);
    [0, 1, 2].forEach((m) => expect(data(w.memberVariables(m))).not.toEqual(before.slice(m * w.memberVariables(0).length, (m + 1) * w.memberVariables(0).length)));
    disposeBatch(batch);
    w.dispose();
    bb.dispose();
  });
});
