/** Which of the reference's rules decided a reply (§5.4), in the order they are tried. */
export type VerdictRule = 'first-word' | 'substring' | 'negative' | 'positive' | 'default';

export interface ParsedVerdict {
  readonly correct: boolean;
  readonly rule: VerdictRule;
  /** What matched: the first word, the substring, or the regex's source; absent for 'default'. */
  readonly match?: string;
}

// Python's \b in a str pattern is Unicode-aware (word characters: letters, digits, _); JavaScript's
// \b knows ASCII only, so 'ÉNO' would hold the word NO. The boundary is spelt out with lookarounds.
const W = '[\\p{L}\\p{N}_]';
const word = (body: string, open = false) => new RegExp(`(?<!${W})${body}${open ? '' : `(?!${W})`}`, 'u');

/** The reference's regexes, tried after the two words: `\bDIFFER` and `\bAGREE` have no closing boundary. */
const NEGATIVE: readonly [string, RegExp][] = [
  ['\\bNO\\b', word('NO')],
  ['\\bFALSE\\b', word('FALSE')],
  ['\\bWRONG\\b', word('WRONG')],
  ['\\bDIFFER', word('DIFFER', true)],
  ['\\bNOT\\s+MATCH', word('NOT\\s+MATCH', true)],
];
const POSITIVE: readonly [string, RegExp][] = [
  ['\\bYES\\b', word('YES')],
  ['\\bTRUE\\b', word('TRUE')],
  ['\\bRIGHT\\b', word('RIGHT')],
  ['\\bEQUIVALENT\\b', word('EQUIVALENT')],
  ['\\bMATCH(ES)?\\b', word('MATCH(?:ES)?')],
  ['\\bAGREE', word('AGREE', true)],
];

/**
 * The reference's reading of a judge's reply: upper-cased and stripped, `ANSWER:` and
 * `RESPONSE:` removed; the first word CORRECT or INCORRECT decides; else the substring
 * INCORRECT (wrong), then CORRECT (right); else any negative regex (wrong), then any positive
 * one (right); else wrong. Pure, so a table test pins every rule.
 */
export function parseVerdict(reply: string): ParsedVerdict {
  const text = reply.trim().toUpperCase().replaceAll('ANSWER:', '').replaceAll('RESPONSE:', '').trim();
  // Python's split(): runs of whitespace, none at the ends.
  const first = text.split(/\s+/u)[0] ?? '';
  if (first === 'CORRECT') return { correct: true, rule: 'first-word', match: first };
  if (first === 'INCORRECT') return { correct: false, rule: 'first-word', match: first };
  // INCORRECT first: it contains CORRECT.
  if (text.includes('INCORRECT')) return { correct: false, rule: 'substring', match: 'INCORRECT' };
  if (text.includes('CORRECT')) return { correct: true, rule: 'substring', match: 'CORRECT' };
  for (const [source, re] of NEGATIVE) if (re.test(text)) return { correct: false, rule: 'negative', match: source };
  for (const [source, re] of POSITIVE) if (re.test(text)) return { correct: true, rule: 'positive', match: source };
  return { correct: false, rule: 'default' };
}

/** For a verdict's detail: `reply "CORRECT." (substring CORRECT)`. */
export function describeParse(reply: string, parsed: ParsedVerdict): string {
  return `reply ${JSON.stringify(reply)} (${parsed.rule}${parsed.match ? ` ${parsed.match}` : ''})`;
}
