/**
 * How a choice line reads: `label-text` is `A) text`; `text-label` is the reference's swapped
 * `text) A` (a zip-order bug in its ARC and OpenBookQA formatting: docs/reference-differences.md rows 13, 55).
 */
export type ChoiceOrder = 'label-text' | 'text-label';

/** One line per choice, joined by newlines: `A) first\nB) second` (or `first) A\n...`). */
export function renderChoices(texts: readonly string[], labels: readonly string[], order: ChoiceOrder = 'label-text'): string {
  if (texts.length !== labels.length) throw new Error(`renderChoices: ${texts.length} texts but ${labels.length} labels`);
  return texts.map((text, i) => (order === 'label-text' ? `${labels[i]}) ${text}` : `${text}) ${labels[i]}`)).join('\n');
}
