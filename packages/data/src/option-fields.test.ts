import { UserError } from '@bayes-peft/core';
import { z } from 'zod';
import { chatTemplateFor, maxExamplesFor, REFERENCE_SPLITS, rowSourceFields, splitRoleFields, subsetFields, subsetForRole } from './option-fields';

const Options = z.object({ ...rowSourceFields({ repo: 'someone/set' }), ...splitRoleFields(REFERENCE_SPLITS), ...subsetFields({ mode: 'first' }) }).strict();

describe('shared dataset option fields', () => {
  it('default to the reference splits and the given subset mode, and refuse unknown split roles', () => {
    expect(Options.parse({})).toEqual({ splits: { train: 'train', test: 'validation', anchor: 'train' }, subsetMode: 'first', subsetSeed: 42 });
    expect(z.object(subsetFields({ mode: 'sample' })).parse({}).subsetMode).toBe('sample');
    expect(() => Options.parse({ splits: { dev: 'x' } })).toThrow();
  });

  it("picks each role's subset size; 'first' keeps file order, 'sample' one seeded shuffle per key", () => {
    const rows = Array.from({ length: 20 }, (_, i) => i);
    const first = Options.parse({ maxTrainExamples: 5, maxAnchorExamples: 3 });
    expect(maxExamplesFor(first, 'test')).toBeUndefined();
    expect(subsetForRole(rows, first, 'train', 'k')).toEqual([0, 1, 2, 3, 4]);
    expect(subsetForRole(rows, first, 'test', 'k')).toEqual(rows);
    const sampled = Options.parse({ maxTrainExamples: 5, maxAnchorExamples: 3, subsetMode: 'sample' });
    const train = subsetForRole(rows, sampled, 'train', 'set/train');
    expect(train).not.toEqual([0, 1, 2, 3, 4]);
    // The anchor drawn from the same split is a prefix of the train subset: one shuffle per key.
    expect(subsetForRole(rows, sampled, 'anchor', 'set/train')).toEqual(train.slice(0, 3));
    expect(subsetForRole(rows, sampled, 'train', 'set/other')).not.toEqual(train);
  });

  it('skipTestExamples takes the test subset after the first N of the order training reads, so the two are disjoint', () => {
    const rows = Array.from({ length: 20 }, (_, i) => i);
    const first = Options.parse({ maxTrainExamples: 8, maxTestExamples: 4, skipTestExamples: 8 });
    expect(subsetForRole(rows, first, 'test', 'k')).toEqual([8, 9, 10, 11]);
    expect(subsetForRole(rows, { ...first, maxTestExamples: undefined }, 'test', 'k')).toEqual(rows.slice(8));
    const sampled = Options.parse({ maxTrainExamples: 8, maxTestExamples: 12, skipTestExamples: 8, subsetMode: 'sample' });
    const train = subsetForRole(rows, sampled, 'train', 'set/split');
    const test = subsetForRole(rows, sampled, 'test', 'set/split');
    expect(test).toHaveLength(12);
    expect([...train, ...test].sort((a, b) => a - b)).toEqual(rows);
    // Only the test role skips.
    expect(subsetForRole(rows, sampled, 'anchor', 'set/split')).toEqual(subsetForRole(rows, { ...sampled, skipTestExamples: 0 }, 'anchor', 'set/split'));
  });

  it("takes the tokenizer's chat template unless told 'never', and 'always' without one is an error naming the dataset", () => {
    const apply = (user: string) => `<user>${user}`;
    expect(chatTemplateFor('auto', { applyChatTemplate: apply }, 'd')).toBe(apply);
    expect(chatTemplateFor('auto', {}, 'd')).toBeUndefined();
    expect(chatTemplateFor('never', { applyChatTemplate: apply }, 'd')).toBeUndefined();
    expect(() => chatTemplateFor('always', undefined, 'squad-v2')).toThrow(UserError);
    expect(() => chatTemplateFor('always', {}, 'squad-v2')).toThrow("squad-v2: chatTemplate is 'always' but the model's tokenizer has no chat template");
  });
});
