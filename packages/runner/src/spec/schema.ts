import { z } from 'zod';
import { LoraConfigSchema } from '@bayes-peft/core';
import { EVAL_ENGINES } from '@bayes-peft/core';
import { BACKEND_REQUESTS } from '@bayes-peft/tensor/backend-names';

/** `blob` or `{ plugin: blob, options: {...} }`: a plugin by short name, npm package or path. */
export const PluginRefSchema = z.union([
  z.string().min(1).transform((plugin) => ({ plugin, options: {} as Record<string, unknown> })),
  z
    .object({
      plugin: z.string().min(1).describe('built-in short name, npm package name, or ./local/path'),
      options: z.record(z.string(), z.unknown()).default({}).describe("validated by the plugin's own schema"),
    })
    .strict(),
]);
export type PluginRef = z.output<typeof PluginRefSchema>;

export const TrainSchema = z
  .object({
    steps: z.number().int().min(0).default(5000).describe('optimizer steps T (0 = evaluation only)'),
    batchSize: z.number().int().positive().default(4),
    lr: z.number().positive().default(1e-4).describe('AdamW learning rate'),
    optimizer: z.enum(['adamw', 'adam', 'sgd']).default('adamw'),
    weightDecay: z.number().min(0).default(0).describe('decoupled weight decay (MAP uses 1e-5)'),
    adamEpsilon: z.number().positive().default(1e-6),
    warmupRatio: z.number().min(0).max(1).default(0.06).describe('linear warmup over T * ratio steps, then linear decay to 0 at T'),
    maxSeqLen: z.number().int().positive().default(300).describe('prompt tokens kept (from the end, so the answer cue survives)'),
    shuffle: z.boolean().default(true).describe('reshuffle training examples each epoch from the run seed (the reference never shuffles: false)'),
    evalEvery: z.number().int().min(0).default(0).describe('intermediate evaluation every k steps (0 = only the final one)'),
    checkpointEvery: z.number().int().min(0).default(0).describe('save the adapter every k steps (0 = at evaluations and the end)'),
    logEvery: z.number().int().positive().default(1).describe('write a metrics.jsonl line every k steps'),
  })
  .strict();

export const EvalSchema = z
  .object({
    batchSize: z.number().int().positive().optional().describe('defaults to train.batchSize'),
    bins: z.number().int().positive().default(15).describe('ECE bins'),
    dropLast: z.boolean().default(false).describe('drop the last partial test batch as the reference does'),
    engine: z
      .enum(EVAL_ENGINES)
      .default('auto')
      .describe(
        "engine of evaluation forwards: 'onnxruntime' runs all weight samples of a batch in one onnxruntime-node call, 'tfjs' the TensorFlow.js backend; 'auto' takes onnxruntime when it loads and the backbone can export the installed adapters",
      ),
  })
  .strict();

/** Weight samples (one answer each) per question, by evaluation phase. */
export const GenerationSamplesSchema = z
  .object({
    intermediate: z.number().int().positive().default(5).describe('answers per question in evaluations during training (the reference passes --bayes-eval-n-samples 5)'),
    final: z.number().int().positive().default(10).describe('answers per question in the final evaluation (the reference: 10)'),
  })
  .strict();

/**
 * Open-ended evaluation: how answers are generated and how their metrics are computed. Every
 * method generates `samples` answers per question; a Bayesian method draws one weight sample per
 * answer (fixed for the whole sequence), a deterministic one differs only in its token draws.
 */
export const GenerationSchema = z
  .object({
    maxNewTokens: z.number().int().positive().default(50).describe('generated tokens per answer at most (the reference: 50)'),
    temperature: z.number().min(0).default(0.7).describe('sampling temperature; 0 decodes greedily (the reference: 0.7, and cannot decode greedily)'),
    topP: z.number().gt(0).max(1).default(0.9).describe('nucleus sampling mass (the reference: 0.9)'),
    stop: z.array(z.string().min(1)).default([]).describe('strings that end an answer besides EOS (the text is cut before them)'),
    samples: GenerationSamplesSchema.default(GenerationSamplesSchema.parse({})),
    batchSize: z.number().int().positive().optional().describe('questions generated together (each with all its samples); defaults to eval.batchSize, then train.batchSize'),
    bins: z.number().int().positive().default(10).describe('ECE bins of the generative metrics (the reference: 10)'),
    tieRule: z
      .enum(['half', 'wrong'])
      .default('half')
      .describe("a question with exactly half its answers right counts half right ('half') or wrong ('wrong', the reference's mean > 0.5)"),
    scoreBatchSize: z.number().int().positive().default(64).describe('answers per call of the scorer'),
  })
  .strict();

/**
 * Semantic uncertainty of open-ended answers: a question's sampled answers clustered by meaning
 * with a comparer of two answers (a judge with `entailment`, e.g. an NLI model), for semantic
 * entropy and its kin (docs/methods.md, 'Semantic uncertainty').
 */
export const SemanticSchema = z
  .object({
    comparer: z
      .union([z.literal('scorer'), z.literal('none'), PluginRefSchema])
      .default('scorer')
      .describe(
        "what compares two answers (default: scorer): 'scorer' = the run's scorer when it can (a scorer without entailment, such as string-match, skips semantic scores; written out, semantic: makes that an error), a judge plugin with entailment (name or { plugin, options }), or 'none'",
      ),
    strict: z
      .boolean()
      .default(true)
      .describe('same meaning = entailment in both directions (entailment the most probable of the three classes); false: neither direction is contradiction'),
    batchSize: z
      .number()
      .int()
      .positive()
      .default(64)
      .describe("answer pairs per call of the comparer (de-duplicated by text first; each carries its question, which the comparer reads if its options say so, e.g. nli's conditionOnQuestion)"),
  })
  .strict();

export const HubSchema = z
  .object({
    offline: z.boolean().optional().describe('use only the local cache (default: HF_HUB_OFFLINE / BAYES_PEFT_OFFLINE, else false)'),
    cacheDir: z.string().optional().describe('hub cache folder (default: BAYES_PEFT_CACHE, HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub)'),
    endpoint: z.string().optional().describe('hub URL (default: HF_ENDPOINT, else https://huggingface.co)'),
  })
  .strict();

export const RunSpecSchema = z
  .object({
    name: z
      .string()
      .regex(/^[\w.-]+$/, 'letters, digits, _ . - only (it names a folder)')
      .default('experiment'),
    seed: z.number().int().min(0).default(1),
    backend: z.enum(BACKEND_REQUESTS).default('auto'),
    output: z.string().default('runs').describe('folder of run folders, relative to the working directory'),
    hub: HubSchema.default({}),
    model: PluginRefSchema,
    dataset: PluginRefSchema,
    wrapper: PluginRefSchema,
    adapter: z
      .union([
        z.string().min(1),
        z
          .object({
            repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'a hub repository id, owner/name').describe('hub repository holding the adapter (--load-lora-huggingface-repo)'),
            subfolder: z.string().min(1).refine((s) => !s.split('/').includes('..'), 'no .. in the subfolder').optional().describe('folder of the adapter inside the repository (--load-lora-path)'),
            revision: z.string().min(1).optional().describe('branch, tag or commit (default: main)'),
          })
          .strict(),
      ])
      .optional()
      .describe(
        'PEFT adapter to start from (eval-only runs: train.steps 0): a folder relative to the spec, or { repo: owner/name, subfolder?, revision? } fetched through the hub cache (hub:, offline mode)',
      ),
    lora: LoraConfigSchema.default({ r: 8, alpha: 16, dropout: 0, targets: ['q_proj', 'v_proj', 'lm_head'] }),
    train: TrainSchema.default(TrainSchema.parse({})),
    eval: EvalSchema.default(EvalSchema.parse({})),
    generation: GenerationSchema.default(GenerationSchema.parse({})).describe('open-ended datasets only: answer generation and its metrics'),
    scorer: PluginRefSchema.default({ plugin: 'string-match', options: {} }).describe('open-ended datasets only: the judge plugin that scores answers against the references (default: string-match)'),
    semantic: SemanticSchema.default(SemanticSchema.parse({})).describe('open-ended datasets only: clustering the sampled answers by meaning (semantic entropy)'),
  })
  .strict();

export type RunSpec = z.output<typeof RunSpecSchema>;

export type GenerationSpec = z.output<typeof GenerationSchema>;

export type SemanticSpec = z.output<typeof SemanticSchema>;
