/**
 * The reference's judge texts (utils/llm_judge.py, REFERENCE-SPEC §5.4), verbatim. Only the
 * markup around them differs: the reference hard-codes Llama 3's headers, here a local judge's own
 * chat template (chat-prompt.ts) or the server's (openai) wraps the two messages.
 */
export const JUDGE_SYSTEM = 'You are an expert answer evaluator. Judge if two answers mean the same thing.';

/** The two words the judge is told to reply with; its confidence compares their probabilities. */
export const CORRECT = 'CORRECT';
export const INCORRECT = 'INCORRECT';

export interface JudgeQuestion {
  readonly question: string;
  readonly reference: string;
  readonly candidate: string;
  /** A passage the question is about; the `Context:` line appears only when it is non-empty. */
  readonly context?: string;
}

/** The user message: `[Context: ...\n]Question: ...`, the two answers, the instruction. */
export function judgeUserText(q: JudgeQuestion): string {
  const context = q.context ? `Context: ${q.context}\n` : '';
  return (
    `${context}Question: ${q.question}\n\n` +
    `Ground truth answer: ${q.reference}\n` +
    `Student answer: ${q.candidate}\n\n` +
    `Does the student answer match the ground truth? Reply with exactly one word: ${CORRECT} or ${INCORRECT}`
  );
}

/** A candidate this short (after trimming) is wrong without asking the judge, as in the reference. */
export const MIN_CANDIDATE_CHARS = 2;

/** Python's `len(candidate.strip()) < 2`: code points, Unicode whitespace trimmed. */
export function tooShort(candidate: string): boolean {
  return [...candidate.trim()].length < MIN_CANDIDATE_CHARS;
}
