import { normalizeAnswer } from '@bayes-peft/data';

export type Normalization = 'reference' | 'squad';

/**
 * Python 3's `[^\w\s]` once `normalizeAnswer` has run: `\w` is exactly Unicode letters, numbers
 * and `_` (combining marks are not word characters in Python), and the only whitespace left is
 * a single space.
 */
const NOT_WORD_OR_SPACE = /[^\p{L}\p{N}_ ]/gu;

/**
 * The reference normalises references twice (normalize_answer when the dataset loads, its
 * string match's `lower, strip, delete [^\w\s], collapse whitespace` when scoring) and
 * generations only once, the second way (docs/reference-differences.md row 83). Both sides get
 * the whole of it here. Its second step is applied after the first has collapsed whitespace, so
 * the ends are trimmed after deletion: `'« Paris »'` gives `'paris'`, not `' paris '`.
 */
export function normalizeReferenceStyle(s: string): string {
  return normalizeAnswer(s)
    .replace(NOT_WORD_OR_SPACE, '')
    .split(' ')
    .filter((w) => w !== '')
    .join(' ');
}

/** SQuAD's and TriviaQA's official answer normalisation (lowercase, ASCII punctuation and articles out, whitespace collapsed). */
export function normalizeSquad(s: string): string {
  return normalizeAnswer(s);
}

export const NORMALIZERS: Readonly<Record<Normalization, (s: string) => string>> = {
  reference: normalizeReferenceStyle,
  squad: normalizeSquad,
};
