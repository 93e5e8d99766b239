// The generation figure: BLoB's final-phase generation (10 weight samples, each fixed for its
// whole sequence) of 4 questions, through the wrapper plugin attached in a run session as the
// runner would, timed on one evaluation engine.
import { performance } from 'node:perf_hooks';
import { initBackend, type BackendRequest } from '@bayes-peft/tensor';
import { LoraConfigSchema, Rng, readEnv, silentLogger, type Backbone, type EncodedBatch, type EvalEngine, type EvalEngineChoice, type Logger, type RunContext, type Wrapper } from '@bayes-peft/core';
import { createRunSession, resolveEvalEngine, selectEvalEngine } from '@bayes-peft/runner';
import causalLm from '@bayes-peft/backbone-causal-lm';
import blob from '@bayes-peft/wrapper-blob';
import { median } from './harness';

/**
 * The shape of the figure (issue 11): 4 questions x 10 weight samples, prompts of 64 tokens, 32
 * new tokens, temperature 0.7, top-p 0.9, LoRA r 8 / alpha 16 on q_proj and v_proj (BLoB's
 * draws fixed per sequence). tooling/bench/python/gen_bench.py decodes the same shapes in PyTorch.
 */
export const GEN_SHAPE = {
  questions: 4,
  samples: 10,
  promptTokens: 64,
  newTokens: 32,
  temperature: 0.7,
  topP: 0.9,
  targets: ['q_proj', 'v_proj'],
} as const;

export interface GenBenchOptions {
  readonly model: string;
  readonly dir: string;
  /**
   * The engines to time, in order ('auto': the one a run would pick, onnxruntime when it loads);
   * duplicates after resolution and engines that cannot run are left out. Default ['auto', 'tfjs'].
   */
  readonly engines?: readonly EvalEngineChoice[];
  readonly backend?: BackendRequest;
  /** Timed generate calls per engine (median reported). Default 2. */
  readonly repeats?: number;
  /** Untimed calls first. Default 1. */
  readonly warmup?: number;
  readonly seed?: number;
  /** Tests shrink the shape; the figure's names assume GEN_SHAPE. */
  readonly shape?: Partial<Record<'questions' | 'samples' | 'promptTokens' | 'newTokens', number>>;
  readonly log?: Logger;
}

export interface GenEngineResult {
  readonly engine: EvalEngine;
  /** Provider and threads of onnxruntime, or why TensorFlow.js. */
  readonly engine_details: string;
  /** Generated tokens (every question and sample) / median seconds of a generate call. */
  readonly gen_tokens_per_s_10_samples: number;
  /** Median seconds of a generate call / questions. */
  readonly gen_s_per_question: number;
  /** Median seconds of a whole generate call (questions x samples sequences). */
  readonly gen_s: number;
  /** The same with maxNewTokens 1: the prefill and the first token alone. */
  readonly gen_prefill_s: number;
  /** (gen_s - gen_prefill_s) / (newTokens - 1): one decoding step of every sequence. */
  readonly gen_ms_per_decode_step: number;
  /** Process CPU seconds of a generate call (median): every thread of the process. */
  readonly gen_cpu_s: number;
  /** Tokens generated per call (fewer than questions x samples x newTokens when sequences hit EOS). */
  readonly gen_tokens: number;
  readonly gen_runs_s: readonly number[];
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/**
 * `questions` prompts of exactly `promptTokens` random non-special tokens, seeded (no padding:
 * every sequence decodes the same number of steps unless it samples EOS).
 */
export function randomPrompts(backbone: Backbone, rng: Rng, questions: number, promptTokens: number): EncodedBatch {
  const t = backbone.tokenizer;
  const v = Math.min(backbone.config.vocabSize, t.vocabSize);
  const special = new Set([0, t.bosTokenId, t.eosTokenId, t.padTokenId].filter((x): x is number => x !== null));
  const ids: number[][] = [];
  for (let q = 0; q < questions; q++) {
    const row: number[] = [];
    while (row.length < promptTokens) {
      const id = rng.int(v);
      if (!special.has(id)) row.push(id);
    }
    ids.push(row);
  }
  return { ids, mask: ids.map((row) => row.map(() => 1)) };
}

/**
 * Loads the model with BLoB on q_proj and v_proj in a run session and times its final-phase
 * generation on each engine in turn (one load: the engine is switched as the runner sets it).
 */
export async function benchGeneration(options: GenBenchOptions): Promise<GenEngineResult[]> {
  const shape = { ...GEN_SHAPE, ...options.shape };
  const repeats = options.repeats ?? 2;
  const warmup = options.warmup ?? 1;
  const seed = options.seed ?? 0;
  const log = options.log ?? silentLogger;
  const say = (m: string) => log.info(`${options.model}: ${m}`);
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`repeats must be a positive integer, got ${repeats}`);
  await initBackend(options.backend ?? 'auto', () => undefined);
  const rng = new Rng(seed);
  const ctx: RunContext = {
    seed,
    rng,
    log: { ...log, info: () => undefined },
    specDir: process.cwd(),
    hub: { offline: true, cacheDir: readEnv('BAYES_PEFT_CACHE') ?? '', endpoint: 'https://huggingface.co' },
  };
  const session = createRunSession({
    context: ctx,
    lora: LoraConfigSchema.parse({ r: 8, alpha: 16, dropout: 0, targets: [...shape.targets] }),
    backbone: { plugin: causalLm, options: causalLm.options.parse({ path: options.dir }) },
    wrapper: {
      plugin: blob,
      options: blob.options.parse({ trainSamples: 1, klReweighting: true, datasetRescaling: true, evalSamplesFinal: shape.samples }),
    },
  });
  let backbone: Backbone | null = null;
  let wrapper: Wrapper | null = null;
  try {
    backbone = await session.loadBackbone();
    wrapper = session.wrapper();
    wrapper.attach(backbone);
    const w = wrapper;
    const bb = backbone;
    const prompts = randomPrompts(bb, rng.child('bench').child('generation'), shape.questions, shape.promptTokens);
    const results: GenEngineResult[] = [];
    for (const choice of options.engines ?? ['auto', 'tfjs']) {
      const decision = resolveEvalEngine(choice === 'onnxruntime' && bb.engineUnavailable?.('onnxruntime') ? 'auto' : choice, bb);
      if (results.some((r) => r.engine === decision.engine)) continue;
      selectEvalEngine(decision.engine, bb);
      // Every engine decodes the same prompts from the same token stream.
      const genCtx = { training: false, rng: rng.child('bench').child('generate') };
      const call = async (maxNewTokens: number) => {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const out = await w.generate(prompts, { maxNewTokens, temperature: shape.temperature, topP: shape.topP, ctx: genCtx, phase: 'final' });
        const s = (performance.now() - t0) / 1000;
        const c = process.cpuUsage(c0);
        if (out.length !== shape.questions || out.some((perQ) => perQ.length !== shape.samples)) throw new Error(`generate returned ${out.length} x ${out[0]?.length} results`);
        return { s, cpuS: (c.user + c.system) / 1e6, tokens: out.reduce((n, perQ) => n + perQ.reduce((m, r) => m + r.newIds.length, 0), 0) };
      };
      const runs: { s: number; cpuS: number; tokens: number }[] = [];
      const prefill: number[] = [];
      for (let i = 0; i < warmup + repeats; i++) {
        const r = await call(shape.newTokens);
        const p = await call(1);
        const warm = i < warmup;
        if (!warm) {
          runs.push(r);
          prefill.push(p.s);
        }
        say(`generation on ${decision.engine} ${i + 1}/${warmup + repeats}${warm ? ' (warm-up)' : ''}: ${r.s.toFixed(2)} s for ${r.tokens} tokens (prefill + first token ${p.s.toFixed(2)} s)`);
      }
      const s = median(runs.map((r) => r.s));
      const tokens = median(runs.map((r) => r.tokens));
      const prefillS = median(prefill);
      results.push({
        engine: decision.engine,
        engine_details: decision.engine === 'onnxruntime' ? ((bb as { onnxDescription?: string | null }).onnxDescription ?? 'onnxruntime') : decision.why,
        gen_tokens_per_s_10_samples: round(tokens / s, 2),
        gen_s_per_question: round(s / shape.questions, 3),
        gen_s: round(s, 3),
        gen_prefill_s: round(prefillS, 3),
        gen_ms_per_decode_step: round(shape.newTokens > 1 ? ((s - prefillS) * 1000) / (shape.newTokens - 1) : 0, 1),
        gen_cpu_s: round(median(runs.map((r) => r.cpuS)), 3),
        gen_tokens: tokens,
        gen_runs_s: runs.map((r) => round(r.s, 3)),
      });
    }
    return results;
  } finally {
    wrapper?.dispose();
    backbone?.dispose();
    session.close();
  }
}

/**
 * PyTorch's figure for the same shapes on this machine (tooling/bench/python/gen_bench.py: eager
 * Llama with a KV cache, the 40 sequences in one batch, 1 thread, OpenBLAS' own kernel
 * choice); the generation line's ratio divides by it. `--pytorch` measures it again instead.
 */
export const PYTORCH_GENERATION: Readonly<Record<string, { readonly tokensPerS: number; readonly note: string }>> = {
  'random-40M': { tokensPerS: 175, note: 'PyTorch 1.13.1 (Debian) eager, 1 thread, gen_bench.py, median of 3 runs, 2026-12-07' },
};

/** One generation line per model: the first engine's figures under the fixed names, every engine's in `engines`. */
export interface GenerationLine {
  readonly model: string;
  readonly line: 'generation';
  readonly engine: EvalEngine;
  readonly gen_tokens_per_s_10_samples: number;
  readonly gen_s_per_question: number;
  readonly questions: number;
  readonly samples: number;
  readonly prompt_tokens: number;
  readonly new_tokens: number;
  readonly temperature: number;
  readonly top_p: number;
  readonly lora_targets: readonly string[];
  /** PyTorch's tokens/s for the same shapes, and ours over it (absent for models without a reference). */
  readonly pytorch_tokens_per_s?: number;
  readonly gen_vs_pytorch?: number;
  readonly pytorch_note?: string;
  readonly engines: readonly (GenEngineResult & { readonly vs_pytorch?: number })[];
}

export function generationLine(
  model: string,
  results: readonly GenEngineResult[],
  shape: Partial<Pick<typeof GEN_SHAPE, 'questions' | 'samples' | 'promptTokens' | 'newTokens'>> = {},
  pytorch: { readonly tokensPerS: number; readonly note: string } | undefined = PYTORCH_GENERATION[model],
): GenerationLine {
  if (results.length === 0) throw new Error(`${model}: no generation figure`);
  const s = { ...GEN_SHAPE, ...shape };
  const first = results[0];
  const ratio = (x: number) => (pytorch ? round(x / pytorch.tokensPerS, 2) : undefined);
  return {
    model,
    line: 'generation',
    engine: first.engine,
    gen_tokens_per_s_10_samples: first.gen_tokens_per_s_10_samples,
    gen_s_per_question: first.gen_s_per_question,
    questions: s.questions,
    samples: s.samples,
    prompt_tokens: s.promptTokens,
    new_tokens: s.newTokens,
    temperature: s.temperature,
    top_p: s.topP,
    lora_targets: s.targets,
    ...(pytorch ? { pytorch_tokens_per_s: pytorch.tokensPerS, gen_vs_pytorch: ratio(first.gen_tokens_per_s_10_samples), pytorch_note: pytorch.note } : {}),
    engines: results.map((r) => ({ ...r, ...(pytorch ? { vs_pytorch: ratio(r.gen_tokens_per_s_10_samples) } : {}) })),
  };
}
