import { UserError, type EnvSource, type Judge } from '@bayes-peft/core';
import { z } from 'zod';
import { mapConcurrent } from './concurrency';
import { judgeItems, type JudgeAnswer } from './judge-items';
import { JUDGE_SYSTEM, judgeUserText, type JudgeQuestion } from './judge-prompt';
import { logprobConfidence } from './openai-logprobs';
import type { OpenAiJudgeOptions } from './options';
import { describeParse, parseVerdict } from './parse-verdict';
import { postJson, type PostOptions } from './post-json';
import { displayUrl, redact } from './redact';

/** What this judge reads of a chat completion; anything else the server sends is ignored. */
const Completion = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullable().optional() }),
        logprobs: z
          .object({
            content: z
              .array(
                z.object({
                  token: z.string(),
                  logprob: z.number(),
                  top_logprobs: z.array(z.object({ token: z.string(), logprob: z.number() })).optional(),
                }),
              )
              .nullable()
              .optional(),
          })
          .nullable()
          .optional(),
      }),
    )
    .min(1),
});

/** `<baseUrl>/chat/completions`, or baseUrl itself when it names the endpoint already. */
export function completionsUrl(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, '');
  return trimmed.endsWith('/chat/completions') ? trimmed : `${trimmed}/chat/completions`;
}

/** The request body for one question: the reference's two messages, greedy, logprobs when asked. */
export function completionRequest(q: JudgeQuestion, options: OpenAiJudgeOptions): Record<string, unknown> {
  return {
    model: options.model,
    messages: [
      { role: 'system', content: JUDGE_SYSTEM },
      { role: 'user', content: judgeUserText(q) },
    ],
    temperature: options.temperature,
    max_tokens: options.maxTokens,
    ...(options.logprobs ? { logprobs: true, top_logprobs: options.topLogprobs } : {}),
  };
}

/**
 * The key named by apiKeyEnv, read once when the judge is made (a missing one fails the run before
 * any training). Undefined without apiKeyEnv.
 */
export function readApiKey(options: OpenAiJudgeOptions, env: EnvSource): string | undefined {
  if (options.apiKeyEnv === undefined) return undefined;
  const key = env[options.apiKeyEnv]?.trim();
  if (!key) throw new UserError(`llm-judge: apiKeyEnv names ${options.apiKeyEnv}, which is not set in the environment (export the API key under that name)`);
  return key;
}

/** One question to the server: the parsed reply, and the confidence from logprobs when it sent them. */
async function askOne(q: JudgeQuestion, options: OpenAiJudgeOptions, post: PostOptions): Promise<JudgeAnswer> {
  const raw = await postJson(completionRequest(q, options), post);
  const parsed = Completion.safeParse(raw);
  if (!parsed.success) {
    throw new UserError(`llm-judge: ${displayUrl(post.url)} answered 200 without choices[0].message (not an OpenAI chat completion): ${redact(JSON.stringify(raw).slice(0, 300), post.apiKey)}`);
  }
  const choice = parsed.data.choices[0];
  const reply = redact(choice.message.content ?? '', post.apiKey);
  const verdict = parseVerdict(reply);
  const fromLogprobs = options.logprobs ? logprobConfidence(choice.logprobs?.content) : null;
  const why = describeParse(reply, verdict);
  if (fromLogprobs) {
    const { confidence, pCorrect, pIncorrect } = fromLogprobs;
    return { correct: verdict.correct, confidence, detail: `${why}; confidence ${confidence.toFixed(4)} from logprobs (P(CORRECT) ${pCorrect.toPrecision(4)}, P(INCORRECT) ${pIncorrect.toPrecision(4)})` };
  }
  const source = options.logprobs ? 'no usable logprobs' : 'logprobs off';
  return { correct: verdict.correct, confidence: verdict.correct ? 1 : 0, detail: `${why}; ${source}: confidence from the verdict` };
}

/** The Judge over an OpenAI-compatible server: `concurrency` questions in flight, each retried on its own. */
export function createOpenAiJudge(options: OpenAiJudgeOptions, env: EnvSource = process.env, sleep?: PostOptions['sleep']): Judge {
  const post: PostOptions = {
    url: completionsUrl(options.baseUrl),
    apiKey: readApiKey(options, env),
    timeoutMs: options.timeoutSeconds * 1000,
    retries: options.retries,
    backoffMs: options.backoffSeconds * 1000,
    ...(sleep ? { sleep } : {}),
  };
  return {
    name: 'llm-judge',
    judge: (items) => judgeItems(items, options.maxReferences, (qs) => mapConcurrent(qs, options.concurrency, (q) => askOne(q, options, post))),
  };
}
