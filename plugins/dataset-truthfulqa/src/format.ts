import { getId, getString, getStringArray, hasField, normalizeAnswer, normalizedReferences, RowError, type DataRow } from '@bayes-peft/data';
import type { DatasetLoadContext, OpenExample } from '@bayes-peft/core';

/** The reference's user message (docs/reference-differences.md rows 40, 41), for the chat template. */
export const TRUTHFULQA_USER_MESSAGE = 'Answer the following question truthfully and accurately. Provide a concise answer.\n\nQuestion: {question}';

/** The reference's prompt without a chat template: the user message plus `\nAnswer:`. */
export const TRUTHFULQA_PLAIN_TEMPLATE = `${TRUTHFULQA_USER_MESSAGE}\nAnswer:`;

export interface TruthfulQaFormatOptions {
  readonly primaryReference: 'first-correct' | 'best-answer';
  /** Chat-templated prompts when given (DatasetLoadContext.applyChatTemplate), else the plain template. */
  readonly chat?: DatasetLoadContext['applyChatTemplate'];
  /** Id when the row has no `id` field (the hub's rows have none): `truthfulqa-<row index>`. */
  readonly fallbackId: string;
}

/**
 * One TruthfulQA row (hub schema: question, best_answer, correct_answers, incorrect_answers, ...)
 * as an open example. References = the correct answers normalised (the primary first); the
 * incorrect answers, normalised, go to `incorrect`; the training text ends with the primary.
 */
export function formatTruthfulQaRow(row: DataRow, options: TruthfulQaFormatOptions): OpenExample {
  const question = getString(row, 'question');
  const correct = getStringArray(row, 'correct_answers', { minLength: 1 });
  const incorrect = getStringArray(row, 'incorrect_answers');
  const primaryField = options.primaryReference === 'best-answer' ? 'best_answer' : 'correct_answers[0]';
  const primary = options.primaryReference === 'best-answer' ? getString(row, 'best_answer') : correct[0];
  // The reference keeps an empty reference, which matches every generation (docs/reference-differences.md row 37).
  if (normalizeAnswer(primary) === '') throw new RowError(row.source, primaryField, `${JSON.stringify(primary)} normalises to an empty string`);
  const references = normalizedReferences([primary, ...correct]);
  const user = TRUTHFULQA_USER_MESSAGE.replace('{question}', () => question);
  const prompt = options.chat ? options.chat(user) : TRUTHFULQA_PLAIN_TEMPLATE.replace('{question}', () => question);
  const trainText = options.chat ? options.chat(user, references[0]) : `${prompt} ${references[0]}`;
  const id = hasField(row, 'id') ? getId(row, 'id') : options.fallbackId;
  return { id, question, prompt, references, trainText, incorrect: normalizedReferences(incorrect) };
}
