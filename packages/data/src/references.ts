import { normalizeAnswer } from './normalize-answer';

/**
 * Normalised reference answers for an open-ended question, in the order given (the primary
 * first), each once. Answers that normalise to the empty string are left out: an empty
 * reference matches any generation (docs/reference-differences.md row 37). So the result starts with the
 * primary unless that normalises to '', and it is empty when every answer does.
 */
export function normalizedReferences(answers: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const answer of answers) {
    const n = normalizeAnswer(answer);
    if (n !== '' && !seen.has(n)) {
      seen.add(n);
      out.push(n);
    }
  }
  return out;
}
