import type { McqExample } from '@bayes-peft/core';
import { getId, getString, RowError, type DataRow } from '@bayes-peft/data';
import { fillTemplate, readLabeledChoices, renderChoices, RETURN_LABEL_TEMPLATE } from '@bayes-peft/mcq';

/** Five labels even for four-choice questions: the reference's 5-way softmax (docs/methods.md, 'Multiple-choice prompts and targets'). */
export const ARC_LABELS = ['A', 'B', 'C', 'D', 'E'] as const;

/** The reference's zero-shot template, verbatim (docs/methods.md, 'Multiple-choice prompts and targets'). */
export const ARC_TEMPLATE = RETURN_LABEL_TEMPLATE;

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
  const { texts, labels } = readLabeledChoices(row, { max: ARC_LABELS.length });
  const answerKey = getString(row, 'answerKey');
  if (!/^[A-E1-5]$/.test(answerKey)) {
    throw new RowError(row.source, 'answerKey', `expected one of A-E or 1-5, got ${JSON.stringify(answerKey)}`);
  }
  if (!labels.includes(answerKey)) {
    throw new RowError(row.source, 'answerKey', `'${answerKey}' is not one of the choice labels (${labels.join(', ')})`);
  }
  const choices = renderChoices(texts, labels, options.swapChoiceFormat ? 'text-label' : 'label-text');
  return { id: getId(row, 'id', 'arc'), prompt: fillTemplate(ARC_TEMPLATE, { question, choices }), label: arcClass(answerKey) };
}
