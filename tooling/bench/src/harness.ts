// One model, one process: loads a Hugging Face Llama folder through the causal-lm plugin, attaches
// BLoB through its plugin in core's run session exactly as the runner wires a run, and times
// training steps, 10-sample evaluation and a plain forward pass on seeded random prompts.
import { performance } from 'node:perf_hooks';
import { initBackend, tf, type BackendRequest } from '@bayes-peft/tensor';
import { LoraConfigSchema, Rng, readEnv, silentLogger, type Backbone, type EvalEngine, type EvalEngineChoice, type Logger, type McqBatch, type RunContext, type TrainingPlan, type Wrapper } from '@bayes-peft/core';
import { createRunSession, selectEvalEngine, targetTokenIds } from '@bayes-peft/runner';
import causalLm from '@bayes-peft/backbone-causal-lm';
import blob from '@bayes-peft/wrapper-blob';

/** The weight samples of the evaluation figure (the key `eval_examples_per_s_10_samples`). */
export const EVAL_SAMPLES = 10;

/** Timed plain forward passes; their median is the unit of the ratios. */
export const FORWARD_REPEATS = 5;
/** Untimed forward passes before them: at least one, more until this much time is spent (at most 20). */
export const FORWARD_WARMUP_MS = 2000;

/** The LoRA of every BLoB run of the paper: r 8, alpha 16 on q_proj, v_proj and lm_head. */
export const BENCH_LORA = { r: 8, alpha: 16, dropout: 0, targets: ['q_proj', 'v_proj', 'lm_head'] } as const;

/** BLoB's reference options (docs/methods.md, 'BLoB'): one training sample, KL reweighting, dataset rescaling. */
export const BENCH_BLOB_OPTIONS = { trainSamples: 1, klReweighting: true, datasetRescaling: true, evalSamplesFinal: EVAL_SAMPLES } as const;

/** Answer labels whose tokens are the readout columns (5 classes, as ARC's A..E). */
export const LABELS = ['A', 'B', 'C', 'D', 'E'] as const;

export interface BenchOptions {
  /** Name reported in the results (`stories260K`, `random-40M`, ...). */
  readonly model: string;
  /** Hugging Face model folder. */
  readonly dir: string;
  /** Default 'auto' ($BAYES_PEFT_BACKEND, else the best engine installed). */
  readonly backend?: BackendRequest;
  readonly batch?: number;
  readonly seq?: number;
  /** Timed training steps (median reported). Default 3. */
  readonly steps?: number;
  /** Untimed training steps before them. Default 1. */
  readonly warmup?: number;
  /** Timed evaluation batches (median reported). Default 2. */
  readonly evalBatches?: number;
  /** Untimed evaluation batches before them. Default 1. */
  readonly evalWarmup?: number;
  readonly seed?: number;
  /** Profile one more training step with tf.profile and report this many kernels (0: no profile). */
  readonly profileTop?: number;
  /** Engine of the evaluation: 'auto' (default) takes onnxruntime when it loads. */
  readonly engine?: EvalEngineChoice;
  /** Weight samples of the evaluation (default 10, the figure's name; tests use fewer). */
  readonly evalSamples?: number;
  /** LoRA targets (default BENCH_LORA's q_proj, v_proj, lm_head). */
  readonly loraTargets?: readonly string[];
  /** Progress lines (default: none). */
  readonly log?: Logger;
}

export interface KernelTime {
  readonly kernel: string;
  readonly ms: number;
  readonly calls: number;
  /** Fraction of the profiled step's summed kernel time. */
  readonly share: number;
}

export interface BenchResult {
  readonly model: string;
  readonly backend: string;
  readonly batch: number;
  readonly seq: number;
  readonly train_ms_per_step: number;
  readonly eval_examples_per_s_10_samples: number;
  readonly peak_rss_mib: number;
  // Extras: absolute figures and ratios.
  readonly backend_details: string;
  /** Where the frozen weights live and their size (the loader's 'weights:' line). */
  readonly weights: string;
  /** Weight samples of the evaluation figure (10 unless a test asked for fewer). */
  readonly eval_samples: number;
  /** Loss of every training step, warm-up included. */
  readonly train_losses: readonly number[];
  /** Whether native kernels replace the engine's hottest ones, and why (initBackend's second line). */
  readonly fast_path: string;
  /** Engine of the evaluation figure: 'tfjs' (the backend above) or 'onnxruntime'. */
  readonly eval_engine: EvalEngine;
  /** Provider and threads of onnxruntime, or why the evaluation ran on TensorFlow.js. */
  readonly eval_engine_details: string;
  readonly parameters: number;
  readonly adapter_parameters: number;
  /** Median of a plain forward pass (frozen backbone, no adapters): last position, 5 columns. */
  readonly forward_ms: number;
  readonly train_step_vs_forward: number;
  readonly eval_ms_per_batch: number;
  readonly eval_ms_per_sample: number;
  /** Cost of one weight sample in evaluation relative to one plain forward. */
  readonly eval_sample_vs_forward: number;
  readonly train_ms: readonly number[];
  readonly eval_ms: readonly number[];
  /**
   * Process CPU time (user + system) of the same calls, medians. On a machine shared with other
   * jobs, wall time grows with the load while CPU time of this single-threaded process (wasm
   * and OpenBLAS at 1 thread) barely does, so these are the steadier figures to compare.
   */
  readonly train_cpu_ms_per_step: number;
  readonly eval_cpu_ms_per_batch: number;
  readonly forward_cpu_ms: number;
  readonly load_ms: number;
  readonly steps: number;
  readonly warmup: number;
  readonly eval_batches: number;
  /** tf.memory().numTensors after the timed work minus before it (0 when nothing leaks). */
  readonly leaked_tensors: number;
  /** Peak RSS so far at the end of each phase (load, forward, train, eval), MiB. */
  readonly peak_rss_mib_after: Readonly<Record<string, number>>;
  readonly profile_step_ms?: number;
  readonly profile_top?: readonly KernelTime[];
  /** The same by kernel and input shapes. */
  readonly profile_top_shapes?: readonly KernelTime[];
  /** One evaluation batch (predict, 10 samples) under tf.profile: its wall time and top kernels by input shapes. */
  readonly profile_eval_ms?: number;
  readonly profile_eval_top_shapes?: readonly KernelTime[];
}

/** The JSON keys every result line starts with, in this order. */
export const JSON_KEYS = ['model', 'backend', 'batch', 'seq', 'train_ms_per_step', 'eval_examples_per_s_10_samples', 'peak_rss_mib'] as const;

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Peak resident set size of this process so far, MiB. */
export function peakRssMib(): number {
  return process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** Wall and CPU milliseconds of `f` (CPU: user + system of the whole process). */
export function timed<T>(f: () => T): { value: T; ms: number; cpuMs: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, ms, cpuMs: (c.user + c.system) / 1000 };
}

/** The same for an async call (an onnxruntime run): CPU time counts every thread of the process. */
export async function timedAsync<T>(f: () => Promise<T>): Promise<{ value: T; ms: number; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, ms, cpuMs: (c.user + c.system) / 1000 };
}

/** Measures one model in this process. */
export async function benchModel(options: BenchOptions): Promise<BenchResult> {
  const o = {
    backend: 'auto' as BackendRequest,
    batch: 4,
    seq: 128,
    steps: 3,
    warmup: 1,
    evalBatches: 2,
    evalWarmup: 1,
    engine: 'auto' as EvalEngineChoice,
    seed: 0,
    profileTop: 0,
    log: silentLogger,
    evalSamples: EVAL_SAMPLES,
    loraTargets: BENCH_LORA.targets as readonly string[],
    ...options,
  };
  for (const k of ['batch', 'seq', 'steps', 'evalBatches'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`${k} must be a positive integer, got ${o[k]}`);
  }
  const log = o.log;
  const say = (m: string) => log.info(`${o.model}: ${m}`);

  // The backend first: the loader's own initBackend('auto') then keeps this choice.
  const backend = await initBackend(o.backend, (line) => say(line));
  const rng = new Rng(o.seed);
  // The loader's 'weights: ...' line (where the frozen weights live) goes into the result too.
  let weightsLine = '';
  const runLog: Logger = {
    ...log,
    info: (m: string) => {
      if (m.startsWith('weights: ')) weightsLine = m.slice('weights: '.length);
      log.info(m);
    },
  };
  const ctx: RunContext = {
    seed: o.seed,
    rng,
    log: runLog,
    specDir: process.cwd(),
    hub: { offline: true, cacheDir: readEnv('BAYES_PEFT_CACHE') ?? '', endpoint: 'https://huggingface.co' },
  };
  // As the runner: core's run session (the run context, the LoRA config, the plugins registered).
  const session = createRunSession({
    context: ctx,
    lora: LoraConfigSchema.parse({ ...BENCH_LORA, targets: [...o.loraTargets] }),
    backbone: { plugin: causalLm, options: causalLm.options.parse({ path: o.dir }) },
    wrapper: { plugin: blob, options: blob.options.parse({ ...BENCH_BLOB_OPTIONS, evalSamplesFinal: o.evalSamples }) },
  });

  let backbone: Backbone | null = null;
  let wrapper: Wrapper | null = null;
  const batches: McqBatch[] = [];
  try {
    const t0 = performance.now();
    backbone = await session.loadBackbone();
    const loadMs = performance.now() - t0;
    const bb = backbone;
    say(`loaded in ${loadMs.toFixed(0)} ms (${formatCount(countParameters(bb))} parameters)`);

    const peaks: Record<string, number> = { load: round(peakRssMib(), 1) };
    const targetIds = readoutIds(bb);
    const dataRng = rng.child('bench').child('prompts');
    // Each batch is made before its timer starts and freed after it stops, as the runner's loop does.
    const makeBatch = (): McqBatch => {
      const b = randomBatch(bb, dataRng, o.batch, o.seq, targetIds);
      batches.push(b);
      return b;
    };
    const done = () => disposeBatches(batches);

    // 1. A plain forward of the frozen backbone (no adapters yet), the unit of the ratios.
    const fwdBatch = makeBatch();
    const fwdCtx = { training: false, rng: rng.child('bench').child('forward') };
    const forwardCpu: number[] = [];
    const forwardOnce = () => {
      const { ms, cpuMs } = timed(() => {
        const y = bb.forward(fwdBatch.tokens, { output: 'last', columns: targetIds, ctx: fwdCtx });
        y.dataSync();
        y.dispose();
      });
      forwardCpu.push(cpuMs);
      return ms;
    };
    // Warm up until the JIT and the backend's caches settle: small models need several calls.
    for (let spent = 0, n = 0; n < 1 || (spent < FORWARD_WARMUP_MS && n < 20); n++) spent += forwardOnce();
    forwardCpu.length = 0;
    const forwardMs = median(Array.from({ length: FORWARD_REPEATS }, forwardOnce));
    done();
    peaks.forward = round(peakRssMib(), 1);
    say(`forward ${forwardMs.toFixed(1)} ms (batch ${o.batch}, seq ${o.seq})`);

    // 2. BLoB: attach and prepare as the runner does.
    wrapper = session.wrapper();
    wrapper.attach(bb);
    const w = wrapper;
    w.prepare(benchPlan(o.batch));
    const adapterParameters = w.variables().reduce((s, v) => s + v.size, 0);
    const tensorsBefore = tf.memory().numTensors;

    const trainMs: number[] = [];
    const trainCpu: number[] = [];
    const trainLosses: number[] = [];
    const total = o.warmup + o.steps;
    for (let step = 0; step < total; step++) {
      const batch = makeBatch();
      const { value: r, ms, cpuMs } = timed(() => w.trainStep(batch, step));
      done();
      trainLosses.push(r.loss);
      const warm = step < o.warmup;
      if (!warm) {
        trainMs.push(ms);
        trainCpu.push(cpuMs);
      }
      say(`train step ${step + 1}/${total}${warm ? ' (warm-up)' : ''}: ${ms.toFixed(1)} ms, loss ${r.loss.toFixed(4)}`);
    }

    peaks.train = round(peakRssMib(), 1);

    // 3. Evaluation: predict phase 'final' = evalSamplesFinal (10) weight samples per example,
    // on the engine a run with eval.engine o.engine would use.
    const engine = selectEvalEngine(o.engine, bb);
    say(`evaluation engine: ${engine.engine} (${engine.why})`);
    const evalMs: number[] = [];
    const evalCpu: number[] = [];
    const evalTotal = o.evalWarmup + o.evalBatches;
    for (let i = 0; i < evalTotal; i++) {
      const batch = makeBatch();
      // Read back synchronously, so the CPU time is the call's alone.
      const { value: logits, ms, cpuMs } = await timedAsync(async () => {
        const y = await w.predict(batch, { phase: 'final' });
        y.dataSync();
        return y;
      });
      const shape = logits.shape;
      logits.dispose();
      done();
      if (shape[1] !== o.evalSamples) throw new Error(`predict returned ${shape[1]} samples, expected ${o.evalSamples}`);
      const warm = i < o.evalWarmup;
      if (!warm) {
        evalMs.push(ms);
        evalCpu.push(cpuMs);
      }
      say(`eval batch ${i + 1}/${evalTotal}${warm ? ' (warm-up)' : ''}: ${ms.toFixed(1)} ms for ${o.batch} x ${o.evalSamples} samples`);
    }
    const leaked = tf.memory().numTensors - tensorsBefore;
    const peak = peakRssMib();
    peaks.eval = round(peak, 1);

    // 4. Optionally: where one training step's time goes.
    let profile: Awaited<ReturnType<typeof profileTrainStep>> | null = null;
    let evalProfile: Awaited<ReturnType<typeof profileKernels>> | null = null;
    if (o.profileTop > 0) {
      const batch = makeBatch();
      say('profiling one training step (tf.profile)');
      profile = await profileTrainStep(w, batch, total, o.profileTop);
      done();
      const evalBatch = makeBatch();
      say('profiling one evaluation batch (tf.profile)');
      // tf.profile sees TensorFlow.js kernels only: the tfjs engine's evaluation.
      bb.useEngine?.('tfjs');
      evalProfile = await profileKernels(async () => tf.dispose(await w.predict(evalBatch, { phase: 'final' })), o.profileTop);
      bb.useEngine?.(engine.engine);
      done();
    }

    const trainMsPerStep = median(trainMs);
    const evalMsPerBatch = median(evalMs);
    const evalMsPerSample = evalMsPerBatch / o.evalSamples;
    const result: BenchResult = {
      model: o.model,
      backend: backend.name,
      batch: o.batch,
      seq: o.seq,
      train_ms_per_step: round(trainMsPerStep, 1),
      eval_examples_per_s_10_samples: round((o.batch * 1000) / evalMsPerBatch, 4),
      peak_rss_mib: round(peak, 1),
      backend_details: backend.details.join(', '),
      weights: weightsLine,
      eval_samples: o.evalSamples,
      train_losses: trainLosses,
      fast_path: backend.fast.line,
      eval_engine: engine.engine,
      eval_engine_details: engine.engine === 'onnxruntime' ? ((bb as { onnxDescription?: string | null }).onnxDescription ?? 'onnxruntime') : engine.why,
      parameters: countParameters(bb),
      adapter_parameters: adapterParameters,
      forward_ms: round(forwardMs, 1),
      train_step_vs_forward: round(trainMsPerStep / forwardMs, 2),
      eval_ms_per_batch: round(evalMsPerBatch, 1),
      eval_ms_per_sample: round(evalMsPerSample, 1),
      eval_sample_vs_forward: round(evalMsPerSample / forwardMs, 2),
      train_ms: trainMs.map((x) => round(x, 1)),
      eval_ms: evalMs.map((x) => round(x, 1)),
      train_cpu_ms_per_step: round(median(trainCpu), 1),
      eval_cpu_ms_per_batch: round(median(evalCpu), 1),
      forward_cpu_ms: round(median(forwardCpu), 1),
      load_ms: round(loadMs, 0),
      steps: o.steps,
      warmup: o.warmup,
      eval_batches: o.evalBatches,
      leaked_tensors: leaked,
      peak_rss_mib_after: peaks,
      ...(profile ? { profile_step_ms: round(profile.stepMs, 1), profile_top: profile.top, profile_top_shapes: profile.topShapes } : {}),
      ...(evalProfile ? { profile_eval_ms: round(evalProfile.stepMs, 1), profile_eval_top_shapes: evalProfile.topShapes } : {}),
    };
    return result;
  } finally {
    disposeBatches(batches);
    wrapper?.dispose();
    backbone?.dispose();
    session.close();
  }
}

/** A plan like a run's on a 1000-example training split: lr 1e-4 AdamW, no warmup (every step a full update). */
export function benchPlan(batchSize: number): TrainingPlan {
  const numTrainExamples = 1000;
  const stepsPerEpoch = Math.floor(numTrainExamples / batchSize);
  return {
    totalSteps: 1000,
    warmupSteps: 0,
    stepsPerEpoch,
    batchSize,
    numTrainExamples: stepsPerEpoch * batchSize,
    lr: 1e-4,
    weightDecay: 0,
    adamEpsilon: 1e-6,
    optimizer: 'adamw',
  };
}

/** The tokens of 'A'..'E' (their last sub-tokens, as the runner reads them); 5 distinct ids when they collide. */
export function readoutIds(backbone: Backbone): number[] {
  try {
    return targetTokenIds(backbone.tokenizer, LABELS);
  } catch {
    const v = vocabSize(backbone);
    return [0, 1, 2, 3, 4].map((i) => v - 1 - i);
  }
}

function vocabSize(backbone: Backbone): number {
  return Math.min(backbone.config.vocabSize, backbone.tokenizer.vocabSize);
}

/**
 * `batch` prompts of exactly `seq` random tokens (no padding), drawn from `rng` among the ids
 * that are not special (unk/bos/eos/pad), with random labels over the 5 classes.
 */
export function randomBatch(backbone: Backbone, rng: Rng, batch: number, seq: number, targetIds: readonly number[]): McqBatch {
  const v = vocabSize(backbone);
  const t = backbone.tokenizer;
  const special = new Set([0, t.bosTokenId, t.eosTokenId, t.padTokenId].filter((x): x is number => x !== null));
  const ids: number[][] = [];
  const mask: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const row: number[] = [];
    while (row.length < seq) {
      const id = rng.int(v);
      if (!special.has(id)) row.push(id);
    }
    ids.push(row);
    mask.push(new Array<number>(seq).fill(1));
  }
  const labels = Array.from({ length: batch }, () => rng.int(targetIds.length));
  return {
    ids: labels.map((_, i) => `bench-${i}`),
    tokens: backbone.toTensors({ ids, mask }),
    labels: tf.tensor1d(labels, 'int32'),
    targetIds,
  };
}

function disposeBatches(batches: McqBatch[]): void {
  for (const b of batches.splice(0)) {
    tf.dispose([b.tokens.inputIds, b.tokens.attentionMask, b.labels]);
  }
}

/**
 * One training step under tf.profile: kernel times summed by kernel name, largest first, and the
 * same by kernel and input shapes (which matmuls cost the most).
 */
export async function profileTrainStep(
  wrapper: Wrapper,
  batch: McqBatch,
  step: number,
  top: number,
): Promise<{ stepMs: number; top: KernelTime[]; topShapes: KernelTime[] }> {
  return profileKernels(() => {
    wrapper.trainStep(batch, step);
  }, top);
}

/** Any work under tf.profile, summed the same two ways. */
export async function profileKernels(work: () => void | Promise<void>, top: number): Promise<{ stepMs: number; top: KernelTime[]; topShapes: KernelTime[] }> {
  const t0 = performance.now();
  const info = await tf.profile(work);
  const stepMs = performance.now() - t0;
  const byName = new Map<string, { ms: number; calls: number }>();
  const byShape = new Map<string, { ms: number; calls: number }>();
  let sum = 0;
  const add = (m: Map<string, { ms: number; calls: number }>, key: string, ms: number) => {
    const e = m.get(key) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls++;
    m.set(key, e);
  };
  for (const k of info.kernels) {
    // Resolved by tf.profile; a backend without a timer reports { error } instead of a number.
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    add(byName, k.name, ms);
    add(byShape, `${k.name} ${k.inputShapes.map((sh) => `[${(sh ?? []).join(',')}]`).join(' ')}`, ms);
    sum += ms;
  }
  const rank = (m: Map<string, { ms: number; calls: number }>) =>
    [...m]
      .map(([kernel, e]) => ({ kernel, ms: round(e.ms, 1), calls: e.calls, share: round(sum > 0 ? e.ms / sum : 0, 3) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top);
  return { stepMs, top: rank(byName), topShapes: rank(byShape) };
}

/** Weights of the decoder as loadCausalLm counts them (tied lm_head once). */
export function countParameters(backbone: Backbone): number {
  const c = backbone.config;
  let n = c.vocabSize * c.hiddenSize + c.hiddenSize;
  for (const site of backbone.sites()) if (!(site.kind === 'lm_head' && c.tieWordEmbeddings)) n += site.inFeatures * site.outFeatures;
  return n + c.numLayers * 2 * c.hiddenSize;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}K`;
  return String(n);
}

/** One JSON line: the fixed keys first, then the extras. */
export function jsonLine(result: BenchResult): string {
  const ordered: Record<string, unknown> = {};
  for (const k of JSON_KEYS) ordered[k] = result[k];
  for (const [k, v] of Object.entries(result)) if (!(k in ordered)) ordered[k] = v;
  return JSON.stringify(ordered);
}
