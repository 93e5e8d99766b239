import type { McqExample } from '@bayes-peft/core';
import { getString, type DataRow } from '@bayes-peft/data';
import { fillTemplate, letterAnswer, readLabeledChoices, renderChoices, rowId, type RowPosition } from '@bayes-peft/mcq';

/** Five labels A-E. */
export const CSQA_LABELS = ['A', 'B', 'C', 'D', 'E'] as const;

/**
 * The zero-shot text of the reference's `cqa` class, verbatim (docs/reference-differences.md row 61; the class is
 * unreachable there and defaults to few-shot, which this plugin does not offer). Choices are
 * `{label}) {text}`.
 */
export const CSQA_TEMPLATE = 'Answer the multiple choice question below by returning the answer label (A to E)\n\nQuestion: {question}\nChoices:\n{choices}\nAnswer:';

/** One CommonsenseQA row (hub schema: id, question, choices.{label,text}, answerKey) as an MCQ example; class = ord(answerKey) - ord('A'). */
export function formatCsqaRow(row: DataRow, at: RowPosition): McqExample {
  const question = getString(row, 'question');
  const { texts, labels } = readLabeledChoices(row, { max: CSQA_LABELS.length });
  const label = letterAnswer(row, 'answerKey', { count: CSQA_LABELS.length, choiceLabels: labels });
  const choices = renderChoices(texts, labels);
  return { id: rowId(row, at, 'id'), prompt: fillTemplate(CSQA_TEMPLATE, { question, choices }), label };
}
