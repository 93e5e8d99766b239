import type { Backbone, ForwardContext, Judge } from '@bayes-peft/core';
import { leftPad, truncateLeft } from '@bayes-peft/backbone-causal-lm';
import { answerTokens, type AnswerTokens } from './answer-tokens';
import { judgePrompt, type JudgePrompt } from './chat-prompt';
import { twoWayConfidence } from './confidence';
import { judgeItems, type JudgeAnswer } from './judge-items';
import { JUDGE_SYSTEM, judgeUserText, type JudgeQuestion } from './judge-prompt';
import { describeParse, parseVerdict } from './parse-verdict';

export interface LocalJudgeSettings {
  readonly maxNewTokens: number;
  readonly batchSize: number;
  /** false: the plain-text prompt even when the model has a chat template. */
  readonly useChatTemplate: boolean;
  readonly maxReferences: number;
  /** Longest prompt in tokens; longer ones keep their last tokens (and BOS). */
  readonly maxSeqLen: number;
  /** The forward context of generation and the confidence forward (greedy: nothing is drawn). */
  readonly ctx: ForwardContext;
}

/** One question as the local judge asks it: the prompt, its ids and where its confidence is read. */
export interface LocalQuestion {
  readonly prompt: JudgePrompt;
  readonly ids: readonly number[];
  readonly answer: AnswerTokens;
}

/** The prompt, its ids and its answer tokens for one question (exported for tests and tools). */
export function localQuestion(backbone: Backbone, q: JudgeQuestion, settings: Pick<LocalJudgeSettings, 'useChatTemplate' | 'maxSeqLen'>): LocalQuestion {
  const tok = backbone.tokenizer;
  const prompt = judgePrompt(tok, JUDGE_SYSTEM, judgeUserText(q), settings.useChatTemplate);
  const keepBos = (ids: number[]) => tok.addsBos && ids[0] === tok.bosTokenId;
  const ids = tok.encode(prompt.text, { addSpecialTokens: true });
  const answer = answerTokens(tok, prompt);
  return {
    prompt,
    ids: truncateLeft(ids, settings.maxSeqLen, keepBos(ids)),
    answer: { ...answer, context: truncateLeft(answer.context, settings.maxSeqLen, keepBos([...answer.context])) },
  };
}

/**
 * Asks a causal LM in this process, a batch of prompts at a time: its greedy reply (at most
 * `maxNewTokens` tokens, stopped at its EOS or end-of-turn ids) read by the reference's parser
 * decides the verdict; one forward over the same prompts gives the confidence, the two-way
 * softmax of the CORRECT and INCORRECT first tokens' logits at the first answer position.
 */
export async function askLocal(backbone: Backbone, questions: readonly JudgeQuestion[], settings: LocalJudgeSettings): Promise<JudgeAnswer[]> {
  const out: JudgeAnswer[] = [];
  for (let i = 0; i < questions.length; i += settings.batchSize) {
    const part = questions.slice(i, i + settings.batchSize).map((q) => localQuestion(backbone, q, settings));
    const replies = await backbone.generate(leftPad(part.map((p) => p.ids), backbone.tokenizer.padTokenId), {
      maxNewTokens: settings.maxNewTokens,
      temperature: 0,
      topP: 1,
      ctx: settings.ctx,
    });
    const logits = await answerLogits(backbone, part.map((p) => p.answer), settings.ctx);
    for (const [j, reply] of replies.entries()) {
      const parsed = parseVerdict(reply.text);
      const [lc, li] = logits[j];
      const confidence = twoWayConfidence(lc, li);
      out.push({ correct: parsed.correct, confidence, detail: `${describeParse(reply.text, parsed)}; confidence ${confidence.toFixed(4)} from the first answer token's CORRECT/INCORRECT logits` });
    }
  }
  return out;
}

/** [correct, incorrect] logits of each question's first answer token: one forward, only the columns needed. */
async function answerLogits(backbone: Backbone, answers: readonly AnswerTokens[], ctx: ForwardContext): Promise<[number, number][]> {
  const columns = [...new Set(answers.flatMap((a) => [a.correct, a.incorrect]))];
  const batch = backbone.toTensors(leftPad(answers.map((a) => a.context), backbone.tokenizer.padTokenId));
  try {
    const t = backbone.forward(batch, { output: 'last', columns, ctx });
    const values = (await t.data()) as Float32Array;
    t.dispose();
    return answers.map((a, b) => [values[b * columns.length + columns.indexOf(a.correct)], values[b * columns.length + columns.indexOf(a.incorrect)]]);
  } finally {
    batch.inputIds.dispose();
    batch.attentionMask.dispose();
  }
}

/**
 * The Judge over a model acquired on first use (create is synchronous) and released by dispose:
 * `acquire` gives the model and how to let it go (a model shared between runs is freed by its
 * last user).
 */
export function createLocalJudge(acquire: () => { model: Promise<Backbone>; release: () => Promise<void> }, settings: Omit<LocalJudgeSettings, 'maxSeqLen'> & { maxSeqLen?: number }): Judge {
  let held: ReturnType<typeof acquire> | null = null;
  return {
    name: 'llm-judge',
    async judge(items) {
      const backbone = await (held ??= acquire()).model;
      // Room for the reply within the model's positions; a longer prompt loses its start (BOS kept).
      const maxSeqLen = settings.maxSeqLen ?? Math.max(1, backbone.config.maxPositionEmbeddings - settings.maxNewTokens);
      return judgeItems(items, settings.maxReferences, (qs) => askLocal(backbone, qs, { ...settings, maxSeqLen }));
    },
    async dispose() {
      const h = held;
      held = null;
      await h?.release();
    },
  };
}
