import type { McqExample } from '@bayes-peft/core';
import { getString, type DataRow } from '@bayes-peft/data';
import { fillTemplate, letterAnswer, readLabeledChoices, renderChoices, RETURN_LABEL_TEMPLATE, rowId, type RowPosition } from '@bayes-peft/mcq';

/** Four labels A-D, as the reference's obqa. */
export const OBQA_LABELS = ['A', 'B', 'C', 'D'] as const;

/** The reference's obqa template, verbatim, typo included: "Chioces:" (docs/reference-differences.md row 55). */
export const OBQA_TEMPLATE = 'Return the label of the correct answer for the question below.\n\nQuestion: {question}\nChioces:\n{choices}\nAnswer:';

/** With `compat.referencePrompt: false`: the ARC template ("Choices:"). */
export const OBQA_FIXED_TEMPLATE = RETURN_LABEL_TEMPLATE;

export interface ObqaFormatOptions {
  /**
   * true: the reference's prompt, "Chioces:" and each choice as `{text}) {label}` (its zip-order
   * bug); false: "Choices:" and `{label}) {text}`.
   */
  readonly referencePrompt: boolean;
}

/** One OpenBookQA row (hub schema: id, question_stem, choices.{text,label}, answerKey) as an MCQ example; class = ord(answerKey) - ord('A'). */
export function formatObqaRow(row: DataRow, at: RowPosition, options: ObqaFormatOptions): McqExample {
  const question = getString(row, 'question_stem');
  const { texts, labels } = readLabeledChoices(row, { max: OBQA_LABELS.length });
  const label = letterAnswer(row, 'answerKey', { count: OBQA_LABELS.length, choiceLabels: labels });
  const choices = renderChoices(texts, labels, options.referencePrompt ? 'text-label' : 'label-text');
  const template = options.referencePrompt ? OBQA_TEMPLATE : OBQA_FIXED_TEMPLATE;
  return { id: rowId(row, at, 'id'), prompt: fillTemplate(template, { question, choices }), label };
}
