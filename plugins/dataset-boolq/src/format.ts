import type { McqExample } from '@bayes-peft/core';
import { getBoolean, getString, type DataRow } from '@bayes-peft/data';
import { fillTemplate, rowId, type RowPosition } from '@bayes-peft/mcq';

/** The reference's label strings, in its class order (class 0, class 1). */
export const BOOLQ_REFERENCE_LABELS = ['True', 'False'] as const;
/** Class 0 = answer false, class 1 = answer true, each on its own word. */
export const BOOLQ_FIXED_LABELS = ['False', 'True'] as const;

/** The reference's boolq template, verbatim (docs/reference-differences.md rows 56-58). */
export const BOOLQ_TEMPLATE = "Read the passage below and answer the question with the words 'true' or 'false'.\n\nPassage: {passage}\nQuestion: {question}\nAnswer (true or false):";

/** The reference's `passage[:1024]`. */
export const BOOLQ_PASSAGE_MAX_CHARS = 1024;

export interface BoolqFormatOptions {
  /** Keep the first this many characters of the passage (Unicode code points, as Python slices); null keeps it whole. */
  readonly passageMaxChars: number | null;
}

/** The first `max` code points of `text` (Python's `text[:max]`; a JS slice would count UTF-16 units). */
export function cutCodePoints(text: string, max: number | null): string {
  if (max === null || text.length <= max) return text;
  const points = Array.from(text);
  return points.length <= max ? text : points.slice(0, max).join('');
}

/**
 * One BoolQ row (hub schema: question, answer (bool), passage) as an MCQ example. The class is
 * int(answer): 1 for true; which token that class is trained on is the dataset's label order.
 */
export function formatBoolqRow(row: DataRow, at: RowPosition, options: BoolqFormatOptions): McqExample {
  const question = getString(row, 'question');
  const passage = cutCodePoints(getString(row, 'passage'), options.passageMaxChars);
  const label = getBoolean(row, 'answer') ? 1 : 0;
  return { id: rowId(row, at), prompt: fillTemplate(BOOLQ_TEMPLATE, { passage, question }), label };
}
