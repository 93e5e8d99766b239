import type { Judge } from '@bayes-peft/core';
import { silentLogger, UserError } from '@bayes-peft/core';
import { SemanticSchema } from './spec/schema';
import { chooseComparer } from './semantic-comparer';

const plain: Judge = { name: 'string-match', judge: async () => [] };
const nli: Judge = { name: 'nli', judge: async () => [], entailment: async () => [] };
const spec = (v: Record<string, unknown> = {}) => SemanticSchema.parse(v);

describe('chooseComparer', () => {
  it("defaults to the scorer when it can compare answers, with the spec's settings", () => {
    expect(chooseComparer({ spec: spec({ strict: false, batchSize: 8 }), explicit: false, scorer: nli, log: silentLogger })).toEqual({ comparer: nli, strict: false, batchSize: 8 });
  });

  it('left implicit with a scorer that cannot compare: no semantic scores, said in the log', () => {
    const lines: string[] = [];
    const got = chooseComparer({ spec: spec(), explicit: false, scorer: plain, log: { ...silentLogger, info: (m: string) => void lines.push(m) } });
    expect(got).toBeUndefined();
    expect(lines).toEqual(["  semantic uncertainty: skipped, the scorer 'string-match' cannot compare two answers (semantic: { comparer: nli } adds it)"]);
  });

  it('written out with a scorer that cannot compare: an error naming the option', () => {
    expect(() => chooseComparer({ spec: spec(), explicit: true, scorer: plain, log: silentLogger })).toThrow(UserError);
    expect(() => chooseComparer({ spec: spec(), explicit: true, scorer: plain, log: silentLogger })).toThrow(/semantic\.comparer: the scorer 'string-match' cannot compare two answers/);
  });

  it('a named comparer plugin is used (and must compare); none turns semantic scores off', () => {
    const named = spec({ comparer: { plugin: 'nli', options: {} } });
    expect(chooseComparer({ spec: named, explicit: true, scorer: plain, comparer: () => nli, log: silentLogger })?.comparer).toBe(nli);
    expect(() => chooseComparer({ spec: named, explicit: true, scorer: nli, comparer: () => plain, log: silentLogger })).toThrow(/judge plugin 'nli' \(string-match\) cannot compare two answers/);
    expect(chooseComparer({ spec: spec({ comparer: 'none' }), explicit: true, scorer: nli, log: silentLogger })).toBeUndefined();
  });
});
