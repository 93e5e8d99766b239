import type { JudgeItem, JudgeVerdict } from '@bayes-peft/core';
import { MIN_CANDIDATE_CHARS, tooShort, type JudgeQuestion } from './judge-prompt';

/** A backend's answer to one question: the parsed reply, its confidence and why. */
export interface JudgeAnswer {
  readonly correct: boolean;
  readonly confidence: number;
  readonly detail: string;
}

/** A backend: one answer per question, in order. */
export type AskJudge = (questions: readonly JudgeQuestion[]) => Promise<JudgeAnswer[]>;

export const TOO_SHORT_DETAIL = `candidate shorter than ${MIN_CANDIDATE_CHARS} characters: wrong without asking the judge`;

/**
 * Verdicts for a batch of items through one backend call: candidates shorter than 2 characters
 * are wrong without a question (the reference's rule); every other item asks about each of its
 * first `maxReferences` non-empty references, and identical questions are asked once (S samples
 * of one question often repeat an answer, and the judge is greedy). An item is right when the
 * judge accepts any of its references; its confidence is the highest of their confidences.
 */
export async function judgeItems(items: readonly JudgeItem[], maxReferences: number, ask: AskJudge): Promise<JudgeVerdict[]> {
  const questions: JudgeQuestion[] = [];
  const index = new Map<string, number>();
  const asked: (number[] | null)[] = items.map((item) => {
    if (tooShort(item.candidate)) return null;
    return item.references
      .filter((r) => r.trim() !== '')
      .slice(0, maxReferences)
      .map((reference) => {
        const q: JudgeQuestion = { question: item.question, reference, candidate: item.candidate, ...(item.context ? { context: item.context } : {}) };
        const key = JSON.stringify([q.context ?? '', q.question, q.reference, q.candidate]);
        let at = index.get(key);
        if (at === undefined) index.set(key, (at = questions.push(q) - 1));
        return at;
      });
  });
  const answers = questions.length ? await ask(questions) : [];
  if (answers.length !== questions.length) throw new Error(`llm-judge: the backend gave ${answers.length} answers for ${questions.length} questions`);
  return asked.map((at) => {
    if (at === null) return { correct: false, confidence: 0, detail: TOO_SHORT_DETAIL };
    if (at.length === 0) return { correct: false, confidence: 0, detail: 'no non-empty reference: wrong without asking the judge' };
    // The deciding reference: an accepted one before a rejected one, then the most confident.
    const best = at.reduce((b, i) => (better(answers[i], answers[b]) ? i : b));
    const a = answers[best];
    const confidence = Math.max(...at.map((i) => answers[i].confidence));
    const detail = at.length > 1 ? `against ${JSON.stringify(questions[best].reference)}: ${a.detail}` : a.detail;
    return { correct: at.some((i) => answers[i].correct), confidence, detail };
  });
}

function better(a: JudgeAnswer, b: JudgeAnswer): boolean {
  return a.correct !== b.correct ? a.correct : a.confidence > b.confidence;
}
