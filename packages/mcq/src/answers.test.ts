import type { DataRow } from '@bayes-peft/data';
import { indexAnswer, letterAnswer, readLabeledChoices } from './answers';

const at = (data: Record<string, unknown>, line = 7): DataRow => ({ data, source: { file: 'rows.jsonl', line, index: line - 1 } });

describe('answer fields', () => {
  it('letterAnswer: ord(key) - ord(A) for a key among the row labels', () => {
    expect(letterAnswer(at({ k: 'C' }), 'k', { count: 4, choiceLabels: ['A', 'B', 'C', 'D'] })).toBe(2);
    expect(() => letterAnswer(at({ k: 'E' }), 'k', { count: 4 })).toThrow(`rows.jsonl line 7: field 'k': expected one of A-D, got "E"`);
    expect(() => letterAnswer(at({ k: 'D' }), 'k', { count: 4, choiceLabels: ['A', 'B', 'C'] })).toThrow(`field 'k': 'D' is not one of the choice labels (A, B, C)`);
    expect(() => letterAnswer(at({ k: '' }), 'k', { count: 5 })).toThrow(/field 'k': empty: an unlabelled row/);
    expect(() => letterAnswer(at({ k: 3 }), 'k', { count: 5 })).toThrow(`field 'k': expected a string, got a number (3)`);
    expect(() => letterAnswer(at({}), 'k', { count: 5 })).toThrow(`field 'k': missing (the row has no fields)`);
  });

  it('indexAnswer: integers or integer strings in [base, base + count)', () => {
    expect(indexAnswer(at({ a: '2' }), 'a', { count: 2, base: 1 })).toBe(1);
    expect(indexAnswer(at({ a: 0 }), 'a', { count: 2 })).toBe(0);
    expect(indexAnswer(at({ a: '3' }), 'a', { count: 4 })).toBe(3);
    expect(() => indexAnswer(at({ a: '3' }), 'a', { count: 2, base: 1 })).toThrow(`rows.jsonl line 7: field 'a': expected an integer in [1, 2], got "3"`);
    expect(() => indexAnswer(at({ a: 4 }), 'a', { count: 4 })).toThrow(`field 'a': expected an integer in [0, 3], got 4`);
    expect(() => indexAnswer(at({ a: 1.5 }), 'a', { count: 4 })).toThrow(`field 'a': expected an integer in [0, 3], got a number (1.5)`);
    expect(() => indexAnswer(at({ a: '' }), 'a', { count: 2, base: 1 })).toThrow(/field 'a': "": an unlabelled row/);
    expect(() => indexAnswer(at({ a: -1 }), 'a', { count: 2 })).toThrow(/field 'a': -1: an unlabelled row/);
    expect(() => indexAnswer(at({ a: null }), 'a', { count: 2 })).toThrow(`field 'a': expected an integer in [0, 1], got null`);
  });

  it('readLabeledChoices: equal lengths, at most max choices', () => {
    expect(readLabeledChoices(at({ choices: { text: ['x', 'y'], label: ['A', 'B'] } }), { max: 4 })).toEqual({ texts: ['x', 'y'], labels: ['A', 'B'] });
    expect(() => readLabeledChoices(at({ choices: { text: ['x'], label: ['A', 'B'] } }), { max: 4 })).toThrow(`field 'choices': choices.text has 1 items but choices.label has 2`);
    expect(() => readLabeledChoices(at({ choices: { text: ['1', '2', '3'], label: ['A', 'B', 'C'] } }), { max: 2 })).toThrow(
      `field 'choices.text': expected at most 2 choices (labels A-B), got 3`,
    );
    expect(() => readLabeledChoices(at({ choices: { text: ['x', 7], label: ['A', 'B'] } }), { max: 4 })).toThrow(`field 'choices.text[1]': expected a string, got a number (7)`);
  });
});
