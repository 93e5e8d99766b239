import { getId, getString, getStringArray, hasField, normalizeAnswer, normalizedReferences, RowError, type DataRow } from '@bayes-peft/data';
import type { OpenExample } from '@bayes-peft/core';

/** The reference's eval prompts, verbatim: [dsc] the fork, [up] the original (upstream bayesian-peft). */
export const TRIVIAQA_TEMPLATES = {
  dsc: 'Answer the question below. Provide a concise answer. Question: {question} Answer:',
  up: 'Answer the question below. Question: {question} Answer:',
} as const;

export type TriviaQaTemplate = keyof typeof TRIVIAQA_TEMPLATES;

/** The test split's answer placeholder: rows with it have no answer to score. */
export const TRIVIAQA_NO_ANSWER = '<unk>';

export interface TriviaQaFormatOptions {
  readonly template: TriviaQaTemplate;
  /** Add the normalised aliases after the normalised answer. */
  readonly aliases: boolean;
  /** Id when the row has no `question_id` (local copies without it). */
  readonly fallbackId: string;
}

export interface FormattedTriviaQa {
  readonly example: OpenExample;
  /** The answer normalised to '' and the first non-empty alias became the primary reference. */
  readonly emptyAnswer: boolean;
}

/**
 * One TriviaQA row (hub schema: question, question_id, answer.{value, aliases, ...}) as an open
 * example: references = [normalize(value), ...normalize(aliases)] deduplicated, the training text
 * = prompt + ' ' + the primary reference (the reference's normalize_answer(answer.value)).
 */
export function formatTriviaQaRow(row: DataRow, options: TriviaQaFormatOptions): FormattedTriviaQa {
  const question = getString(row, 'question');
  const value = getString(row, 'answer.value');
  if (value === TRIVIAQA_NO_ANSWER) {
    throw new RowError(row.source, 'answer.value', `'${TRIVIAQA_NO_ANSWER}': this is TriviaQA's test split, which has no answers; evaluate on 'validation'`);
  }
  const aliases = getStringArray(row, 'answer.aliases');
  const references = normalizedReferences(options.aliases ? [value, ...aliases] : [value]);
  const emptyAnswer = normalizeAnswer(value) === '';
  // An answer that normalises to '' would match every generation (docs/reference-differences.md row 37);
  // TriviaQA's validation split has one ("(a"). Its first non-empty alias stands in.
  if (emptyAnswer && options.aliases === false) references.push(...normalizedReferences(aliases).slice(0, 1));
  if (references.length === 0) {
    throw new RowError(row.source, 'answer.value', `${JSON.stringify(value)} normalises to an empty string and no alias is usable${aliases.length ? ` (${aliases.map((a) => JSON.stringify(a)).join(', ')})` : ''}`);
  }
  const prompt = TRIVIAQA_TEMPLATES[options.template].replace('{question}', () => question);
  const id = hasField(row, 'question_id') ? getId(row, 'question_id') : options.fallbackId;
  return { example: { id, question, prompt, references, trainText: `${prompt} ${references[0]}` }, emptyAnswer };
}
