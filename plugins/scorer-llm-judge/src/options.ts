import { z } from 'zod';

/** What both backends share: which references the judge sees. */
const common = {
  maxReferences: z
    .number()
    .int()
    .positive()
    .default(1)
    .describe(
      "references shown to the judge, one call each, in the dataset's order (the primary answer first, then aliases): the answer is right when the judge accepts any, and its confidence is the highest; 1 = the primary answer only, as the reference",
    ),
};

const model = z
  .string()
  .min(1)
  .describe('local: Hugging Face model folder (relative to the spec file) or hub id of the judge, e.g. meta-llama/Llama-3.1-8B-Instruct; openai: the model name the server serves');

export const LocalJudgeOptions = z
  .object({
    backend: z.literal('local').describe("'local': a causal LM loaded in this process (the causal-lm backbone's loader); 'openai': an OpenAI-compatible /v1/chat/completions server"),
    model,
    revision: z.string().min(1).optional().describe('hub branch, tag or commit when model is a hub id (default: main)'),
    maxNewTokens: z.number().int().positive().default(20).describe("greedy tokens generated for the judge's reply (the reference's max_new_tokens)"),
    batchSize: z.number().int().positive().default(8).describe('prompts generated together (left padded)'),
    chatTemplate: z
      .enum(['auto', 'never'])
      .default('auto')
      .describe("'auto' = the judge model's own chat template when its tokenizer has one, else the plain-text prompt (README); 'never' = the plain-text prompt"),
    engine: z
      .enum(['auto', 'tfjs', 'onnxruntime'])
      .default('auto')
      .describe("engine of the judge's generation ('auto': onnxruntime when the model can run on it, else TensorFlow.js); the confidence forward is always TensorFlow.js"),
    ...common,
  })
  .strict();

/** A name a shell can export: the key itself (sk-..., with dashes) is refused without being echoed. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const OpenAiJudgeOptions = z
  .object({
    backend: z.literal('openai'),
    baseUrl: z
      .string()
      .url()
      .describe("the server's OpenAI API root, /v1 included (http://127.0.0.1:8000/v1 for vLLM, http://127.0.0.1:8080/v1 for llama.cpp's server, http://127.0.0.1:11434/v1 for Ollama); /chat/completions is appended unless the URL already ends with it"),
    model,
    apiKeyEnv: z
      .string()
      // A refinement, not .regex: the spec's error messages echo a bad format's value, and a key
      // pasted here must not be printed back.
      .refine((v) => ENV_NAME.test(v), { error: 'apiKeyEnv is the NAME of an environment variable holding the key (letters, digits, _), not the key itself' })
      .optional()
      .describe('name of the environment variable holding the API key, sent as a Bearer token (the key is never read from the spec, logged, or written to a run file); absent: no Authorization header'),
    temperature: z.number().min(0).default(0).describe("sampling temperature (0: the server's greedy answer, as the reference)"),
    maxTokens: z.number().int().positive().default(20).describe("max_tokens of the judge's reply"),
    logprobs: z
      .boolean()
      .default(true)
      .describe("ask for logprobs (top_logprobs) and take the confidence from the first answer token's CORRECT-like vs INCORRECT-like probabilities; false, or a server that returns none: confidence 1 or 0 from the parsed reply"),
    topLogprobs: z.number().int().min(1).max(20).default(20).describe("top_logprobs asked for (OpenAI's limit is 20)"),
    concurrency: z.number().int().positive().default(4).describe('requests in flight at once'),
    timeoutSeconds: z.number().positive().default(60).describe('one request may take this long before it is abandoned (and retried)'),
    retries: z
      .number()
      .int()
      .min(0)
      .default(3)
      .describe('retries of a request answered 429 or 5xx, timed out, or refused; a 4xx other than 429 is not retried'),
    backoffSeconds: z
      .number()
      .min(0)
      .default(1)
      .describe("wait before the first retry, doubled before each next one (a server's Retry-After, up to 60 s, wins when longer)"),
    ...common,
  })
  .strict();

export const LlmJudgeOptions = z
  .discriminatedUnion('backend', [LocalJudgeOptions, OpenAiJudgeOptions], { error: "backend must be 'local' or 'openai'" })
  .describe('LLM judge: the reference prompt on a local causal LM or an OpenAI-compatible server');

export type LocalJudgeOptions = z.output<typeof LocalJudgeOptions>;
export type OpenAiJudgeOptions = z.output<typeof OpenAiJudgeOptions>;
export type LlmJudgeOptions = z.output<typeof LlmJudgeOptions>;
