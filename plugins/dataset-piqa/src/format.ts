import type { McqExample } from '@bayes-peft/core';
import { getString, type DataRow } from '@bayes-peft/data';
import { fillTemplate, indexAnswer, renderChoices, RETURN_LABEL_TEMPLATE, rowId, type RowPosition } from '@bayes-peft/mcq';

/** Two labels: A = sol1, B = sol2. */
export const PIQA_LABELS = ['A', 'B'] as const;

/**
 * The reference has no PIQA template (docs/reference-differences.md row 60): this one follows its ARC template,
 * the goal as the question and the two solutions as `A) sol1` / `B) sol2`.
 */
export const PIQA_TEMPLATE = RETURN_LABEL_TEMPLATE;

/** One PIQA row (hub schema: goal, sol1, sol2, label 0/1) as an MCQ example; the id is `<split>-<index>`. */
export function formatPiqaRow(row: DataRow, at: RowPosition): McqExample {
  const question = getString(row, 'goal');
  const texts = [getString(row, 'sol1', { allowEmpty: true }), getString(row, 'sol2', { allowEmpty: true })];
  const label = indexAnswer(row, 'label', { count: 2 });
  const choices = renderChoices(texts, PIQA_LABELS);
  return { id: rowId(row, at), prompt: fillTemplate(PIQA_TEMPLATE, { question, choices }), label };
}
