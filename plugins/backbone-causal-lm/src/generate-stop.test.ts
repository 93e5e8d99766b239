import { Rng, type GenerationResult } from '@bayes-peft/core';
import { tf } from '@bayes-peft/tensor';
import { onnxRuntimeUnavailable } from '@bayes-peft/onnx';
import { leftPad } from './encode';
import { loadCausalLm } from './load';
import type { CausalLm } from './model';
import { describeShared, modelDir, useWasm } from './shared.test-support';

// Stop strings and the NLL's coverage on stories260K (a real pretrained tiny Llama whose greedy
// text is English-like), checked against a plain teacher-forced forward of the same tokens, on
// both engines.
const ortMissing = onnxRuntimeUnavailable();
if (ortMissing && process.env.CI) throw new Error(`onnxruntime is required in CI: ${ortMissing}`);
const ENGINES = ortMissing ? (['tfjs'] as const) : (['tfjs', 'onnxruntime'] as const);

const PROMPTS = ['Once upon a time', 'The little dog was very happy because'];
const NEW = 24;
const ctx = () => ({ training: false, rng: new Rng(0) });

/** -log softmax(logits)[token] of each generated token, from one forward over prompt + generated (float64 on the host). */
function teacherForcedNll(model: CausalLm, prompt: readonly number[], generated: readonly number[]): number[] {
  const tokens = model.toTensors(leftPad([[...prompt, ...generated]], model.tokenizer.padTokenId));
  const logits = tf.tidy(() => model.forward(tokens, { output: 'all', ctx: ctx() }));
  const rows = (logits.arraySync() as number[][][])[0];
  tf.dispose([logits, tokens.inputIds, tokens.attentionMask]);
  return generated.map((token, i) => {
    const row = rows[prompt.length - 1 + i];
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    return lse - row[token];
  });
}

const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

describeShared('generation: stop strings, EOS and the NLL they cover (stories260K)', () => {
  let model: CausalLm;
  const prompts: number[][] = [];
  /** The unstopped greedy runs by engine: [prompt][...]. */
  const free: Record<string, GenerationResult[]> = {};

  const generate = (engine: (typeof ENGINES)[number], options: { stop?: string[]; eosTokenId?: number | null; maxNewTokens?: number }) => {
    model.useEngine(engine);
    return model.generate(leftPad(prompts, model.tokenizer.padTokenId), { maxNewTokens: NEW, temperature: 0, topP: 1, ctx: ctx(), eosTokenId: null, ...options });
  };

  beforeAll(async () => {
    await useWasm();
    model = await loadCausalLm(modelDir('stories260K'));
    for (const p of PROMPTS) prompts.push(model.tokenizer.encode(p));
    for (const engine of ENGINES) free[engine] = await generate(engine, {});
  });
  afterAll(() => model?.dispose());

  it('greedy without stops: NEW tokens, nll the sum of the teacher-forced per-token NLL, the same on both engines', () => {
    for (const engine of ENGINES) {
      free[engine].forEach((r, b) => {
        expect(r.newIds).toHaveLength(NEW);
        expect(r.finishedWithEos).toBe(false);
        expect(r.stop).toBeUndefined();
        expect(r.nll).toBeCloseTo(sum(teacherForcedNll(model, prompts[b], r.newIds)), 4);
      });
      expect(free[engine].map((r) => r.ids)).toEqual(free.tfjs.map((r) => r.ids));
    }
    // English-like text, so the stop strings below are words of it.
    expect(free.tfjs[0].text).toMatch(/^[ A-Za-z,.'"!]+$/);
  });

  for (const engine of ENGINES) {
    it(`${engine}: a stop string from the middle of the greedy text ends the sequence on the token that completes it`, async () => {
      const base = free[engine][0];
      const words = base.text.split(' ').filter((w) => /^[a-z]{3,}$/.test(w));
      // A word that first appears after a few tokens: its first occurrence decides the cut.
      const word = words.find((w) => base.text.indexOf(w) > 10)!;
      expect(word).toBeDefined();
      const stop = ` ${word}`;
      const cut = base.text.indexOf(stop);
      // The completing token, found independently: the first prefix of the tokens whose text holds the stop string.
      let k = 0;
      while (!model.tokenizer.decode(base.newIds.slice(0, k + 1), { skipSpecialTokens: true }).includes(stop)) k++;
      const perToken = teacherForcedNll(model, prompts[0], base.newIds);

      const [stopped, other] = await generate(engine, { stop: ['a string it never makes', stop] });
      expect(stopped.text).toBe(base.text.slice(0, cut));
      expect(stopped.stop).toBe(stop);
      expect(stopped.finishedWithEos).toBe(false);
      expect(stopped.newIds).toEqual(base.newIds.slice(0, k + 1));
      expect(stopped.ids).toEqual([...prompts[0], ...base.newIds.slice(0, k + 1)]);
      expect(stopped.nll).toBeCloseTo(sum(perToken.slice(0, k + 1)), 4);
      // The other row rides along unchanged (or stops at its own occurrence of the string).
      const otherBase = free[engine][1];
      if (otherBase.text.includes(stop)) expect(other.stop).toBe(stop);
      else expect(other).toEqual(otherBase);
    });

    it(`${engine}: EOS ends a sequence and the NLL covers the tokens up to and including it`, async () => {
      const base = free[engine][0];
      // An id the greedy run produces a few tokens in, standing for EOS.
      const eos = base.newIds[5];
      const at = base.newIds.indexOf(eos);
      const [r] = await generate(engine, { eosTokenId: eos });
      expect(r.finishedWithEos).toBe(true);
      expect(r.newIds).toEqual(base.newIds.slice(0, at + 1));
      expect(r.nll).toBeCloseTo(sum(teacherForcedNll(model, prompts[0], base.newIds).slice(0, at + 1)), 4);
      // EOS wins over a stop string completed by the same token: the whole text up to it, which
      // first occurs when that token comes.
      const both = await generate(engine, { eosTokenId: eos, stop: [model.tokenizer.decode(base.newIds.slice(0, at + 1), { skipSpecialTokens: true })] });
      expect(both[0].finishedWithEos).toBe(true);
      expect(both[0].newIds).toEqual(r.newIds);
    });
  }

  it('both engines stop the same sequences at the same tokens with the same NLL (sampled, temperature 0.8, top-p 0.9)', async () => {
    if (ENGINES.length < 2) return;
    const options = { temperature: 0.8, topP: 0.9, maxNewTokens: NEW, eosTokenId: undefined, stop: [' the', '.'] };
    const batch = leftPad(prompts, model.tokenizer.padTokenId);
    const results = [];
    for (const engine of ENGINES) {
      model.useEngine(engine);
      results.push(await model.generate(batch, { ...options, ctx: { training: false, rng: new Rng(7) } }));
    }
    const [t, o] = results;
    o.forEach((r, b) => {
      expect(r.newIds).toEqual(t[b].newIds);
      expect(r.text).toBe(t[b].text);
      expect(r.stop).toBe(t[b].stop);
      expect(r.nll).toBeCloseTo(t[b].nll, 3);
    });
    expect(t.some((r) => r.stop !== undefined)).toBe(true);
  });
});
