import type { Tokenizer } from '@bayes-peft/core';
import type { JudgePrompt } from './chat-prompt';
import { CORRECT, INCORRECT } from './judge-prompt';

/** Where a local judge's confidence is read: after `context`, token `correct` against token `incorrect`. */
export interface AnswerTokens {
  /** The ids both replies share (the prompt's, with special tokens): the forward's input. */
  readonly context: readonly number[];
  /** The first token of the CORRECT reply that differs from the INCORRECT reply's. */
  readonly correct: number;
  readonly incorrect: number;
}

/**
 * The first answer token of each reply, found by encoding the prompt followed by each word (with
 * the prompt's answer prefix) and taking where the two encodings part: the word's first token as
 * the model would produce it after this prompt (a SentencePiece `▁` or a merge across the
 * boundary included). When both words begin with the same token (a byte-level tokenizer that
 * splits off a shared piece), the ids they share join the context: that token has the same
 * probability under both, so the ratio is decided where they differ.
 */
export function answerTokens(tokenizer: Tokenizer, prompt: JudgePrompt): AnswerTokens {
  const yes = tokenizer.encode(prompt.text + prompt.answerPrefix + CORRECT, { addSpecialTokens: true });
  const no = tokenizer.encode(prompt.text + prompt.answerPrefix + INCORRECT, { addSpecialTokens: true });
  let k = 0;
  while (k < yes.length && k < no.length && yes[k] === no[k]) k++;
  // A word's encoding that ends inside the other's cannot happen for these two words, but a
  // tokenizer that drops unknown text could make it so: say which model, not a wrong number.
  if (k === yes.length || k === no.length || k === 0) {
    throw new Error(`the judge's tokenizer gives no distinct first token for ${CORRECT} and ${INCORRECT} after the prompt`);
  }
  return { context: yes.slice(0, k), correct: yes[k], incorrect: no[k] };
}
