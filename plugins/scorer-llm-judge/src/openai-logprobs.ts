import { logSumExp, twoWayConfidence } from './confidence';
import { CORRECT, INCORRECT } from './judge-prompt';

/** One generated token of a chat completion's `logprobs.content`. */
export interface TokenLogprob {
  readonly token: string;
  readonly logprob: number;
  readonly top_logprobs?: readonly { readonly token: string; readonly logprob: number }[];
}

export interface LogprobConfidence {
  /** P(CORRECT-like) / (P(CORRECT-like) + P(INCORRECT-like)) at the first answer token. */
  readonly confidence: number;
  readonly pCorrect: number;
  readonly pIncorrect: number;
}

/**
 * Which word a token begins (or is): trimmed and upper-cased, a non-empty prefix of CORRECT or
 * INCORRECT (`COR`, `Correct`, ` INC`), or a text starting with one (`CORRECT.`). A server shows
 * token strings, not ids, so the variants a tokenizer has (`CORRECT`, ` correct`, `Correct`) are
 * all counted.
 */
export function answerWordOf(token: string): 'correct' | 'incorrect' | null {
  const t = token.trim().toUpperCase();
  if (!t) return null;
  if (CORRECT.startsWith(t) || t.startsWith(CORRECT)) return 'correct';
  if (INCORRECT.startsWith(t) || t.startsWith(INCORRECT)) return 'incorrect';
  return null;
}

/**
 * The judge's confidence from a reply's logprobs: at the first token that is not whitespace, the
 * probabilities of the CORRECT-like and INCORRECT-like tokens among its top_logprobs (and the
 * token itself), summed per word and renormalised over the two. Null when the server sent no
 * top_logprobs there or neither word is among them: the caller falls back to the parsed verdict.
 */
export function logprobConfidence(content: readonly TokenLogprob[] | null | undefined): LogprobConfidence | null {
  const first = content?.find((t) => t.token.trim() !== '');
  if (!first?.top_logprobs?.length) return null;
  const candidates = first.top_logprobs.some((t) => t.token === first.token) ? first.top_logprobs : [...first.top_logprobs, first];
  const yes: number[] = [];
  const no: number[] = [];
  for (const t of candidates) {
    const word = answerWordOf(t.token);
    if (word === 'correct') yes.push(t.logprob);
    else if (word === 'incorrect') no.push(t.logprob);
  }
  if (!yes.length && !no.length) return null;
  const [lc, li] = [logSumExp(yes), logSumExp(no)];
  return { confidence: twoWayConfidence(lc, li), pCorrect: Math.exp(lc), pIncorrect: Math.exp(li) };
}
