import { Rng, silentLogger, type JudgeItem, type RunContext } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';
import plugin, { StringMatchOptions, stringMatchVerdict, version } from './index';

const item = (candidate: string, ...references: string[]): JudgeItem => ({ id: 'q', question: '', references, candidate });
const correct = (candidate: string, references: string[], options: Record<string, unknown> = {}) => stringMatchVerdict(item(candidate, ...references), StringMatchOptions.parse(options)).correct;

describe('string-match judge', () => {
  it("normalises the candidate as the references were normalised (the reference's one-sided normalisation)", () => {
    // TriviaQA's reference for "Gone with the Wind" arrives as normalize_answer's 'gone with wind'.
    // The reference normalises the generation only by lowercasing and dropping punctuation:
    // 'gone with the wind' does not contain 'gone with wind', so it scores the right answer wrong.
    expect('gone with the wind'.includes('gone with wind')).toBe(false);
    expect(correct('Gone with the Wind.', ['gone with wind'])).toBe(true);
    expect(correct('Gone with the Wind.', ['gone with wind'], { normalize: 'squad' })).toBe(true);
    // An unnormalised reference is normalised too.
    expect(correct('beatles', ['The Beatles'])).toBe(true);
  });

  it('accepts any alias, and says which matched', () => {
    const refs = ['william shakespeare', 'shakespeare', 'bard of avon'];
    const v = stringMatchVerdict(item('The Bard of Avon wrote it', ...refs), StringMatchOptions.parse({}));
    expect(v).toEqual({ correct: true, confidence: 1, detail: "'bard of avon wrote it' matched 'bard of avon' (reference in candidate)" });
    expect(correct('Christopher Marlowe', refs)).toBe(false);
  });

  it('never matches an empty reference, however it became empty', () => {
    expect(correct('anything at all', [''])).toBe(false);
    expect(correct('the', ['The'])).toBe(false);
    expect(correct('', [''], { mode: 'exact' })).toBe(false);
    expect(correct('', [''], { mode: 'f1' })).toBe(false);
    // Another alias still can.
    expect(correct('Paris', ['', 'paris'])).toBe(true);
  });

  it('gives confidence 1 when correct and 0 otherwise', () => {
    const v = stringMatchVerdict(item('London', 'paris'), StringMatchOptions.parse({}));
    expect(v.correct).toBe(false);
    expect(v.confidence).toBe(0);
    expect(v.detail).toBe("'london' matched none of 1 reference");
  });

  it("mode exact: equal after normalisation; 'reference' and 'squad' differ on non-ASCII punctuation", () => {
    expect(correct('Paris.', ['paris'], { mode: 'exact' })).toBe(true);
    expect(correct('Paris, France', ['paris'], { mode: 'exact' })).toBe(false);
    expect(correct('Paris, France', ['paris'])).toBe(true);
    // Curly quotes: deleted by the reference's [^\w\s], kept by SQuAD's ASCII-only punctuation.
    expect(correct('\u201cParis\u201d', ['paris'], { mode: 'exact' })).toBe(true);
    expect(correct('\u201cParis\u201d', ['paris'], { mode: 'exact', normalize: 'squad' })).toBe(false);
  });

  it('mode f1: the best reference F1 against the threshold (default 0.5)', () => {
    // 'obama' against 'barack obama': F1 = 2/3.
    expect(correct('Obama', ['barack obama'], { mode: 'f1' })).toBe(true);
    expect(correct('Obama', ['barack obama'], { mode: 'f1', f1Threshold: 0.7 })).toBe(false);
    // The best of two aliases counts: 'obama' alone gives F1 1.
    expect(correct('Obama', ['barack obama', 'obama'], { mode: 'f1', f1Threshold: 0.9 })).toBe(true);
    // 'president obama and biden' against 'obama': P = 1/4, R = 1 -> F1 = (1/2) / (5/4) = 0.4 < 0.5,
    // though the reference is inside the candidate.
    expect(correct('President Obama and Biden', ['obama'], { mode: 'contains' })).toBe(true);
    expect(correct('President Obama and Biden', ['obama'], { mode: 'f1' })).toBe(false);
    expect(correct('President Obama and Biden', ['obama'], { mode: 'f1', f1Threshold: 0.4 })).toBe(true);
    const v = stringMatchVerdict(item('Obama', 'barack obama'), StringMatchOptions.parse({ mode: 'f1' }));
    expect(v.detail).toBe("F1 0.667 with 'barack obama' (threshold 0.5)");
  });

  it('judges a batch in order, one verdict per item', async () => {
    const session = createRunSession({ context: { seed: 1, rng: new Rng(1), log: silentLogger } as unknown as RunContext, judge: { plugin, options: StringMatchOptions.parse({}) } });
    const j = session.judge();
    expect(j.name).toBe('string-match');
    const verdicts = await j.judge([item('Paris', 'paris'), item('Rome', 'paris'), item('It was Paris, I think', 'paris')]);
    expect(verdicts.map((v) => v.correct)).toEqual([true, false, true]);
    expect(await j.judge([])).toEqual([]);
  });
});

describe('string-match plugin', () => {
  it('is a judge plugin with its package version and documented defaults', () => {
    expect(plugin.kind).toBe('judge');
    expect(plugin.name).toBe('string-match');
    expect(plugin.packageName).toBe('@bayes-peft/scorer-string-match');
    expect(plugin.version).toBe(version);
    expect(version).toBe(require('../package.json').version);
    expect(StringMatchOptions.parse({})).toEqual({ normalize: 'reference', mode: 'contains' });
  });

  it('refuses bad options', () => {
    expect(() => StringMatchOptions.parse({ mode: 'contains', f1Threshold: 0.6 })).toThrow(/f1Threshold applies to mode f1 only/);
    expect(() => StringMatchOptions.parse({ mode: 'f1', f1Threshold: 0 })).toThrow();
    expect(() => StringMatchOptions.parse({ mode: 'f1', f1Threshold: 1.5 })).toThrow();
    expect(() => StringMatchOptions.parse({ normalize: 'lowercase' })).toThrow();
    expect(() => StringMatchOptions.parse({ threshold: 0.5 })).toThrow();
  });
});
