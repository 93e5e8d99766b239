import { promises as fs } from 'node:fs';
import type { JudgeItem } from '@bayes-peft/core';
import { createNliJudge, type NliJudge } from './nli-judge';
import { NliModelError } from './errors';
import { NliOptions } from './options';
import { editedCopy, readGolden, runContext, tinyNliDir, type GoldenPair } from './tiny-nli.test-support';

const dir = tinyNliDir('the NLI judge tests');

/** Golden pairs present in both directions: [forward (candidate -> reference), backward]. */
function bothDirections(pairs: readonly GoldenPair[]): [GoldenPair, GoldenPair][] {
  const out: [GoldenPair, GoldenPair][] = [];
  for (const p of pairs) {
    const back = pairs.find((q) => q.premise === p.hypothesis && q.hypothesis === p.premise);
    if (back) out.push([p, back]);
  }
  return out;
}

const item = (candidate: string, references: string[], question = ''): JudgeItem => ({ id: 'q', question, references, candidate });

(dir ? describe : describe.skip)('the NLI judge on tiny-nli', () => {
  const golden = dir ? readGolden(dir) : { labels: [], pairs: [] };
  const judges: NliJudge[] = [];
  const judge = (options: Record<string, unknown> = {}) => {
    const j = createNliJudge(runContext(), NliOptions.parse({ model: dir, threads: 1, ...options }));
    judges.push(j);
    return j;
  };
  const temps: string[] = [];
  afterAll(async () => {
    for (const j of judges) await j.dispose?.();
    await Promise.all(temps.map((t) => fs.rm(t, { recursive: true, force: true })));
  });

  it('scores a candidate by bidirectional entailment: confidence = the mean of the two golden entailment probabilities', async () => {
    const both = bothDirections(golden.pairs);
    expect(both.length).toBeGreaterThanOrEqual(4);
    const verdicts = await judge().judge(both.map(([f]) => item(f.premise, [f.hypothesis])));
    both.forEach(([f, b], i) => {
      const expected = (f.probs[2] + b.probs[2]) / 2;
      expect(Math.abs(verdicts[i].confidence - expected)).toBeLessThan(1e-4);
      expect(verdicts[i].correct).toBe(f.probs[2] >= 0.5 && b.probs[2] >= 0.5);
    });
    // 'Paris' vs 'paris' entails both ways; 'Paris' vs 'London' neither; 'Mount Everest' vs 'Everest' is neutral.
    expect(verdicts.map((v) => v.correct)).toContain(true);
    expect(verdicts.map((v) => v.correct)).toContain(false);
    expect(verdicts[0].detail).toMatch(/^forward 0\.\d{4}, backward 0\.\d{4} with 'paris' \(entailment = label 2 ENTAILMENT, threshold 0\.5\)$/);
  });

  it('with aliases the best one counts', async () => {
    const [right] = await judge().judge([item('Paris', ['London', 'paris'])]);
    const [alone] = await judge().judge([item('Paris', ['paris'])]);
    expect(right.correct).toBe(true);
    expect(right.confidence).toBe(alone.confidence);
    expect(right.detail).toContain("with 'paris'");
    expect(right.detail).toContain('best of 2 references');
  });

  it('threshold decides correctness, not confidence', async () => {
    const [v] = await judge({ threshold: 0.9 }).judge([item('Paris', ['paris'])]);
    const [w] = await judge().judge([item('Paris', ['paris'])]);
    expect(v.correct).toBe(false);
    expect(w.correct).toBe(true);
    expect(v.confidence).toBe(w.confidence);
  });

  it('runs each distinct pair once across a batch of samples that repeat', async () => {
    const j = judge();
    const model = await j.model();
    const before = model.pairsRun;
    const samples = ['Paris', 'Paris', 'paris', 'Paris', 'London'].map((c) => item(c, ['paris']));
    const verdicts = await j.judge(samples);
    // Three distinct candidates, two directions each, less one: 'paris' against 'paris' is the same pair both ways.
    expect(model.pairsRun - before).toBe(5);
    expect(verdicts[1]).toEqual(verdicts[0]);
    expect(verdicts[3]).toEqual(verdicts[0]);
  });

  it('gives the same verdicts in batches of 1 as of 32', async () => {
    const items = golden.pairs.map((p) => item(p.premise, [p.hypothesis]));
    const a = await judge({ batchSize: 1 }).judge(items);
    const b = await judge({ batchSize: 32 }).judge(items);
    a.forEach((v, i) => {
      expect(v.correct).toBe(b[i].correct);
      expect(Math.abs(v.confidence - b[i].confidence)).toBeLessThan(1e-5);
    });
  });

  it('an empty answer, or no non-empty reference, is wrong with confidence 0 without asking the model', async () => {
    const j = judge();
    const model = await j.model();
    const before = model.pairsRun;
    expect(await j.judge([item('  ', ['paris']), item('Paris', ['', ' '])])).toEqual([
      { correct: false, confidence: 0, detail: 'empty answer' },
      { correct: false, confidence: 0, detail: 'no non-empty reference to compare with' },
    ]);
    expect(model.pairsRun).toBe(before);
    expect(await j.judge([])).toEqual([]);
  });

  it('conditionOnQuestion prepends the question to both sides', async () => {
    const question = 'What is the capital of France?';
    const [plain] = await judge().judge([item('Paris', ['paris'], question)]);
    const [conditioned] = await judge({ conditionOnQuestion: true }).judge([item('Paris', ['paris'], question)]);
    const [f, b] = await (await judge().model()).classify(
      [
        { premise: `${question} Paris`, hypothesis: `${question} paris` },
        { premise: `${question} paris`, hypothesis: `${question} Paris` },
      ],
      2,
    );
    expect(conditioned.confidence).toBeCloseTo((f.probs[2] + b.probs[2]) / 2, 12);
    expect(conditioned.confidence).not.toBeCloseTo(plain.confidence, 6);
  });

  it("entailment(): each pair's entailment and contradiction probabilities (label 2 and label 0 here)", async () => {
    const j = judge();
    const pairs = golden.pairs.slice(0, 6);
    const scores = await j.entailment(pairs);
    scores.forEach((s, i) => {
      expect(s.entailment).toBeCloseTo(pairs[i].probs[2], 5);
      expect(s.contradiction).toBeCloseTo(pairs[i].probs[0], 5);
    });
    expect(await j.entailment([])).toEqual([]);
    // With conditionOnQuestion the pair's question is prepended to both sides.
    const q = 'Capital of France?';
    const [c] = await judge({ conditionOnQuestion: true }).entailment([{ premise: 'Paris', hypothesis: 'paris', question: q }]);
    const [direct] = await j.entailment([{ premise: `${q} Paris`, hypothesis: `${q} paris` }]);
    expect(c).toEqual(direct);
  });

  it('reads the entailment index from the config: labels renamed to the MoritzLaurer order give index 0', async () => {
    const moritz = await editedCopy(dir!, (c) => ({
      ...c,
      id2label: { 0: 'entailment', 1: 'neutral', 2: 'contradiction' },
      label2id: { entailment: 0, neutral: 1, contradiction: 2 },
    }));
    temps.push(moritz);
    const j = judge({ model: moritz });
    const model = await j.model();
    expect(model.labels).toEqual({ names: ['entailment', 'neutral', 'contradiction'], entailment: 0, contradiction: 2 });
    // Same graph, so the judge now reads logit 0: golden's first probability, both directions.
    const [f, b] = bothDirections(golden.pairs)[0];
    const [v] = await j.judge([item(f.premise, [f.hypothesis])]);
    expect(Math.abs(v.confidence - (f.probs[0] + b.probs[0]) / 2)).toBeLessThan(1e-4);
    expect(v.detail).toContain('entailment = label 0 entailment');
  });

  it('a config without an entailment label is an error naming its labels, at the first call', async () => {
    const bad = await editedCopy(dir!, (c) => ({ ...c, id2label: { 0: 'LABEL_0', 1: 'LABEL_1', 2: 'LABEL_2' }, label2id: undefined }));
    temps.push(bad);
    const err = await judge({ model: bad }).judge([item('Paris', ['paris'])]).catch((e) => e);
    expect(err).toBeInstanceOf(NliModelError);
    expect(err.message).toBe(`NLI model ${bad}: config.json's labels are 0: LABEL_0, 1: LABEL_1, 2: LABEL_2; none is 'entailment' (any case), so this is not an NLI model bayes-peft can read`);
  });

  it('entailment() of a model without a contradiction label is an error; judging still works', async () => {
    const twoWay = await editedCopy(dir!, (c) => ({ ...c, id2label: { 0: 'not_entailment', 1: 'neutral', 2: 'entailment' }, label2id: undefined }));
    temps.push(twoWay);
    const j = judge({ model: twoWay });
    expect((await j.judge([item('Paris', ['paris'])]))[0].correct).toBe(true);
    await expect(j.entailment([{ premise: 'a', hypothesis: 'b' }])).rejects.toThrow(/no 'contradiction' label/);
  });
});
