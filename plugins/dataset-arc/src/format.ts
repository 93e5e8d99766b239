import { getString, getStringArray, getId, RowError, type DataRow } from '@bayes-peft/data';
import type { McqExample } from '@bayes-peft/core';

/** Five labels even for four-choice questions: the reference's 5-way softmax (REFERENCE-SPEC 2.1, 8 item 22). */
export const ARC_LABELS = ['A', 'B', 'C', 'D', 'E'] as const;

/** The reference's zero-shot template, verbatim (REFERENCE-SPEC 2.1). */
export const ARC_TEMPLATE = 'Return the label of the correct answer for the question below.\n\nQuestion: {question}\nChoices:\n{choices}\nAnswer:';

export interface ArcFormatOptions {
  /** `"{text}) {label}"` (the reference's swapped rendering) when true, else `"{label}) {text}"`. */
  readonly swapChoiceFormat: boolean;
}

/**
 * Class index of an answer key: ord(key) - ord('A') for letters; numeric keys '1'..'5' give
 * int(key) - 1 (the reference's fallback when the letter formula is negative), so a question
 * labelled 1-4 in its prompt is trained on the letter token of the same index.
 */
export function arcClass(answerKey: string): number {
  const letter = answerKey.charCodeAt(0) - 'A'.charCodeAt(0);
  return letter >= 0 ? letter : Number.parseInt(answerKey, 10) - 1;
}

/** One ARC row (hub schema: id, question, choices.{text,label}, answerKey) as an MCQ example. */
export function formatArcRow(row: DataRow, options: ArcFormatOptions): McqExample {
  const question = getString(row, 'question');
  const texts = getStringArray(row, 'choices.text', { minLength: 1 });
  const labels = getStringArray(row, 'choices.label', { minLength: 1 });
  if (texts.length !== labels.length) {
    throw new RowError(row.source, 'choices', `choices.text has ${texts.length} items but choices.label has ${labels.length}`);
  }
  if (texts.length > ARC_LABELS.length) {
    throw new RowError(row.source, 'choices.text', `expected at most ${ARC_LABELS.length} choices (labels A-E), got ${texts.length}`);
  }
  const answerKey = getString(row, 'answerKey');
  if (!/^[A-E1-5]$/.test(answerKey)) {
    throw new RowError(row.source, 'answerKey', `expected one of A-E or 1-5, got ${JSON.stringify(answerKey)}`);
  }
  if (!labels.includes(answerKey)) {
    throw new RowError(row.source, 'answerKey', `'${answerKey}' is not one of the choice labels (${labels.join(', ')})`);
  }
  const choices = texts.map((text, i) => (options.swapChoiceFormat ? `${text}) ${labels[i]}` : `${labels[i]}) ${text}`)).join('\n');
  const prompt = ARC_TEMPLATE.replace('{question}', () => question).replace('{choices}', () => choices);
  return { id: getId(row, 'id', 'arc'), prompt, label: arcClass(answerKey) };
}
