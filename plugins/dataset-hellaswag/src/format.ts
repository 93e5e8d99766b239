import type { McqExample } from '@bayes-peft/core';
import { getString, getStringArray, RowError, type DataRow } from '@bayes-peft/data';
import { fillTemplate, indexAnswer, letterLabels, renderChoices, RETURN_LABEL_TEMPLATE, rowId, type RowPosition } from '@bayes-peft/mcq';

/** Four labels A-D, one per ending. */
export const HELLASWAG_LABELS = ['A', 'B', 'C', 'D'] as const;

/**
 * The reference has no HellaSwag template (docs/reference-differences.md row 60): this one follows its ARC
 * template, the context (`ctx`, the hub's ctx_a and ctx_b joined) as the question and the four
 * endings as `A) ...` to `D) ...`. Text is used as the hub serves it (WikiHow rows keep their
 * `[header]`/`[step]` markers).
 */
export const HELLASWAG_TEMPLATE = RETURN_LABEL_TEMPLATE;

/** One HellaSwag row (hub schema: ctx, endings[4], label "0".."3"; ind when present) as an MCQ example. */
export function formatHellaswagRow(row: DataRow, at: RowPosition): McqExample {
  const question = getString(row, 'ctx');
  const endings = getStringArray(row, 'endings', { minLength: 2 });
  if (endings.length > HELLASWAG_LABELS.length) {
    throw new RowError(row.source, 'endings', `expected at most ${HELLASWAG_LABELS.length} endings (labels A-D), got ${endings.length}`);
  }
  const label = indexAnswer(row, 'label', { count: endings.length });
  const choices = renderChoices(endings, letterLabels(endings.length));
  return { id: rowId(row, at, 'ind'), prompt: fillTemplate(HELLASWAG_TEMPLATE, { question, choices }), label };
}
