import { defineJudge } from '@bayes-peft/core';
import { createLocalJudge } from './local-judge';
import { acquireJudgeModel } from './local-model';
import { createOpenAiJudge } from './openai-judge';
import { LlmJudgeOptions } from './options';

export { LlmJudgeOptions, LocalJudgeOptions, OpenAiJudgeOptions } from './options';
export { parseVerdict, describeParse, type ParsedVerdict, type VerdictRule } from './parse-verdict';
export { JUDGE_SYSTEM, judgeUserText, tooShort, CORRECT, INCORRECT, MIN_CANDIDATE_CHARS, type JudgeQuestion } from './judge-prompt';
export { judgePrompt, type JudgePrompt, type PromptStyle } from './chat-prompt';
export { answerTokens, type AnswerTokens } from './answer-tokens';
export { twoWayConfidence } from './confidence';
export { judgeItems, TOO_SHORT_DETAIL, type AskJudge, type JudgeAnswer } from './judge-items';
export { askLocal, createLocalJudge, localQuestion, type LocalJudgeSettings, type LocalQuestion } from './local-judge';
export { acquireJudgeModel, loadJudgeModel } from './local-model';
export { createOpenAiJudge, completionRequest, completionsUrl, readApiKey } from './openai-judge';
export { logprobConfidence, answerWordOf, type TokenLogprob } from './openai-logprobs';
export { postJson, JudgeRequestError, type PostOptions } from './post-json';

// Read at run time: package.json sits outside the compiled sources (changesets bumps it).
const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineJudge({
  name: 'llm-judge',
  version,
  packageName: pkg.name,
  description:
    "an LLM judges each answer against the reference with the reference's prompt (through the judge model's own chat template, one BOS) and parser; confidence = the judge's P(CORRECT) vs P(INCORRECT) at its first answer token; a local causal LM or an OpenAI-compatible server",
  options: LlmJudgeOptions,
  create: ({ run }, options) =>
    options.backend === 'openai'
      ? createOpenAiJudge(options)
      : createLocalJudge(() => acquireJudgeModel(options, run), {
          maxNewTokens: options.maxNewTokens,
          batchSize: options.batchSize,
          useChatTemplate: options.chatTemplate === 'auto',
          maxReferences: options.maxReferences,
          ctx: { training: false, rng: run.rng.child('llm-judge') },
        }),
});
