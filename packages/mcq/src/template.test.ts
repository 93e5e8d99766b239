import { fillTemplate, RETURN_LABEL_TEMPLATE, templateFields } from './template';

describe('fillTemplate', () => {
  it('fills every placeholder once, never rescanning inserted text', () => {
    const out = fillTemplate('Q: {question}\n{choices}\nA:', { question: 'what is {choices}? $& $1', choices: 'A) x' });
    expect(out).toBe('Q: what is {choices}? $& $1\nA) x\nA:');
  });

  it('rejects a placeholder without a value', () => {
    expect(() => fillTemplate('Q: {question} {choises}', { question: 'q', choices: 'c' })).toThrow('template placeholder {choises} has no value (given: question, choices)');
  });

  it('lists the fields of the reference template', () => {
    expect(templateFields(RETURN_LABEL_TEMPLATE)).toEqual(['question', 'choices']);
    expect(fillTemplate(RETURN_LABEL_TEMPLATE, { question: 'Q?', choices: 'A) a\nB) b' })).toBe(
      'Return the label of the correct answer for the question below.\n\nQuestion: Q?\nChoices:\nA) a\nB) b\nAnswer:',
    );
  });
});
