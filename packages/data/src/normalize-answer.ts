// The reference's `normalize_answer` (SQuAD style, docs/reference-differences.md row 35), character for character
// as Python 3 computes it:
//
//   def normalize_answer(s):
//       s = s.lower()
//       s = ''.join(ch for ch in s if ch not in set(string.punctuation))
//       s = re.sub(r'\b(a|an|the)\b', ' ', s)
//       return ' '.join(s.split())
//
// Python's `\b` and `str.split()` are Unicode-aware, JavaScript's `\b` and `\s` are not (and
// `\s` counts U+FEFF but not U+001C..U+001F or U+0085), so both are spelled out here.

/** Python's `string.punctuation`: the 32 ASCII punctuation characters. */
export const PYTHON_PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

const PUNCTUATION = new Set(PYTHON_PUNCTUATION);

/** `\b(a|an|the)\b` with Python 3's word characters (exactly Unicode letters, numbers and `_`). */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** The characters for which Python's `str.isspace()` is true: what `str.split()` splits on. */
const PYTHON_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

/** Lowercase, drop ASCII punctuation, replace the articles a/an/the by a space, collapse whitespace. */
export function normalizeAnswer(s: string): string {
  let out = '';
  for (const ch of s.toLowerCase()) if (!PUNCTUATION.has(ch)) out += ch;
  return out
    .replace(ARTICLES, ' ')
    .split(PYTHON_WHITESPACE)
    .filter((w) => w !== '')
    .join(' ');
}
