import type { McqExample } from '@bayes-peft/core';
import { getString, type DataRow } from '@bayes-peft/data';
import { fillTemplate, indexAnswer, renderChoices, RETURN_LABEL_TEMPLATE, rowId, type RowPosition } from '@bayes-peft/mcq';

/** Two labels: A = option1, B = option2. */
export const WINOGRANDE_LABELS = ['A', 'B'] as const;

/** The reference's template for winogrande_s/_m: its ARC template, the sentence as the question (docs/methods.md, 'Multiple-choice prompts and targets'). */
export const WINOGRANDE_TEMPLATE = RETURN_LABEL_TEMPLATE;

/** One WinoGrande row (hub schema: sentence with `_`, option1, option2, answer "1"/"2") as an MCQ example; class = int(answer) - 1. */
export function formatWinograndeRow(row: DataRow, at: RowPosition): McqExample {
  const question = getString(row, 'sentence');
  const texts = [getString(row, 'option1', { allowEmpty: true }), getString(row, 'option2', { allowEmpty: true })];
  const label = indexAnswer(row, 'answer', { count: 2, base: 1 });
  const choices = renderChoices(texts, WINOGRANDE_LABELS);
  return { id: rowId(row, at), prompt: fillTemplate(WINOGRANDE_TEMPLATE, { question, choices }), label };
}
