/**
 * How a variable is declared: its zod schema (applied to the trimmed text), the words of the
 * error when it does not parse, its default and what it does. `readEnv` in ./index.ts applies
 * them; the docs table (docs/run-spec.md) is generated from them.
 */
import * as os from 'node:os';
import { z } from 'zod';

/** When a variable is read: by a run (library or CLI), by an install script, or by the tests. */
export type EnvScope = 'run' | 'install' | 'tests';

export interface EnvVar<Out> {
  /** The type as the docs table shows it. */
  readonly type: string;
  /** The values it takes, for a variable that takes a fixed set. */
  readonly values?: readonly string[];
  /** Parses the trimmed, non-empty text. */
  readonly schema: z.ZodType<Exclude<Out, undefined>, string>;
  /** Completes `NAME='value' ...` when the schema rejects a value. */
  readonly expected: string;
  /** The value when unset or empty (a function when it depends on the machine). */
  readonly default: Out | (() => Out);
  /** The default as the docs table shows it. */
  readonly defaultText: string;
  readonly scope: EnvScope;
  /** Which package (or script) reads it. */
  readonly readBy: string;
  /** What it does, for the docs table (markdown, one paragraph). */
  readonly description: string;
}

interface Meta {
  readonly scope: EnvScope;
  readonly readBy: string;
  readonly description: string;
}

interface Kind<T> {
  readonly type: string;
  readonly values?: readonly string[];
  readonly schema: z.ZodType<T, string>;
  readonly expected: string;
}

function declare<T>(kind: Kind<T>, meta: Meta & { default: NoInfer<T> | (() => NoInfer<T>); defaultText?: string }): EnvVar<T>;
function declare<T>(kind: Kind<T>, meta: Meta & { default?: undefined; defaultText?: string }): EnvVar<T | undefined>;
function declare<T>(kind: Kind<T>, meta: Meta & { default?: T | (() => T); defaultText?: string }): EnvVar<T | undefined> {
  const { default: value, defaultText, ...rest } = meta;
  return {
    ...kind,
    schema: kind.schema as z.ZodType<Exclude<T | undefined, undefined>, string>,
    default: value,
    defaultText: defaultText ?? (value === undefined || typeof value === 'function' ? '-' : `\`${formatValue(value)}\``),
    ...rest,
  };
}

function formatValue(v: unknown): string {
  if (v === true) return '1';
  if (v === false) return '0';
  return String(v);
}

const FLAG_WORDS = ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'] as const;
const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);

/** 1/0, true/false, yes/no, on/off (any case). */
const flag: Kind<boolean> = {
  type: 'flag',
  schema: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(FLAG_WORDS))
    .transform((s) => TRUE_WORDS.has(s)),
  expected: `is not a flag (${FLAG_WORDS.join(', ')})`,
};

const positiveInteger: Kind<number> = {
  type: 'positive integer',
  schema: z
    .string()
    .regex(/^\+?\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)),
  expected: 'is not a positive integer',
};

function oneOf<const V extends readonly [string, ...string[]]>(values: V): Kind<V[number]> {
  return { type: values.map((v) => `\`${v}\``).join(' \\| '), values, schema: z.enum(values), expected: `is not one of ${values.join(', ')}` };
}

const url: Kind<string> = { type: 'URL', schema: z.url({ protocol: /^https?$/ }), expected: 'is not an http(s) URL' };
const folder: Kind<string> = { type: 'path', schema: z.string(), expected: 'is not a path' };
const text: Kind<string> = { type: 'text', schema: z.string(), expected: 'is not text' };
/** `<point>@<n>`: a crash point's name and which time it is reached (see crash-point.ts). */
const crashAt: Kind<{ point: string; hit: number }> = {
  type: '`<point>@<n>`',
  schema: z
    .string()
    .regex(/^[\w.:-]+@[1-9]\d*$/)
    .transform((s) => {
      const at = s.lastIndexOf('@');
      return { point: s.slice(0, at), hit: Number(s.slice(at + 1)) };
    }),
  expected: 'is not <point>@<n> (a crash point and a positive count, e.g. checkpoint:swap@2)',
};
/** Any value switches it on (the convention of `CI`). */
const present: Kind<boolean> = { type: 'set or unset', schema: z.string().transform(() => true), expected: '' };

function cores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** Every variable bayes-peft reads, declared once. Keep each group in the order of the docs table. */
export const ENV = {
  // --- the engines -------------------------------------------------------------------------
  BAYES_PEFT_BACKEND: declare(oneOf(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']), {
    default: 'auto',
    scope: 'run',
    readBy: '@bayes-peft/tensor',
    description: 'TensorFlow.js backend when the spec (or `--backend`) says `auto`; an explicit choice wins over it.',
  }),
  BAYES_PEFT_FAST: declare(flag, {
    default: true,
    scope: 'run',
    readBy: '@bayes-peft/tensor',
    description:
      "The fast path on wasm and cpu: native OpenBLAS matmul (when @bayes-peft/native-kernels built), in-heap copies, lean gradients. `0` switches it off (the backends' own kernels). It does not change the evaluation engine (see `BAYES_PEFT_EVAL_ENGINE`).",
  }),
  BAYES_PEFT_THREADS: declare(positiveInteger, {
    default: 1,
    scope: 'run',
    readBy: '@bayes-peft/tensor',
    description:
      "OpenBLAS threads of the native kernels (training and TensorFlow.js forwards). 1 by default: with more, some sums run in another order and a seed's results would depend on the core count. onnxruntime's threads are `BAYES_PEFT_ORT_THREADS`.",
  }),
  BAYES_PEFT_NATIVE_SIMD: declare(oneOf(['1', '0']), {
    default: '1',
    scope: 'run',
    readBy: '@bayes-peft/native-kernels (the addon, when it loads)',
    description: '`0`: the native kernels run their plain C loops even where AVX2 / F16C exist.',
  }),
  BAYES_PEFT_EVAL_ENGINE: declare(oneOf(['auto', 'tfjs']), {
    default: 'auto',
    scope: 'run',
    readBy: '@bayes-peft/runner',
    description:
      "`tfjs`: evaluate on TensorFlow.js when the spec says `eval.engine: auto` (what a machine without onnxruntime-node gets); an explicit `eval.engine` wins over it. The run's log and env.json say which engine ran and why.",
  }),
  BAYES_PEFT_ORT_THREADS: declare(positiveInteger, {
    default: cores,
    defaultText: 'every core',
    scope: 'run',
    readBy: '@bayes-peft/onnx',
    description: "Threads of onnxruntime's intra-op pool (its results do not depend on them). Only this variable sets them.",
  }),
  BAYES_PEFT_ORT_ROWS: declare(positiveInteger, {
    default: 1536,
    scope: 'run',
    readBy: '@bayes-peft/backbone-causal-lm',
    description: 'Rows (samples x batch x sequence) one onnxruntime run may carry: the knob between peak memory and speed.',
  }),
  BAYES_PEFT_ORT_CUDA: declare(oneOf(['auto', '1', '0']), {
    default: 'auto',
    scope: 'run',
    readBy: '@bayes-peft/onnx',
    description:
      "onnxruntime's CUDA provider: `auto` tries it where its libraries were installed with onnxruntime-node, `1` tries it anyway (libraries on the library path), `0` never.",
  }),
  BAYES_PEFT_DEBUG: declare(flag, {
    default: false,
    scope: 'run',
    readBy: '@bayes-peft/core',
    description: 'Debug lines in the log.',
  }),
  // --- runs on many machines --------------------------------------------------------------
  BAYES_PEFT_LOCK_HEARTBEAT_MS: declare(positiveInteger, {
    default: 30_000,
    scope: 'run',
    readBy: '@bayes-peft/runner',
    description: "How often a running run renews the heartbeat in its folder's `run.lock` (milliseconds). Keep it well below `BAYES_PEFT_LOCK_STALE_MS`.",
  }),
  BAYES_PEFT_LOCK_STALE_MS: declare(positiveInteger, {
    default: 300_000,
    scope: 'run',
    readBy: '@bayes-peft/runner',
    description:
      "A `run.lock` whose heartbeat is older than this (milliseconds) is stale: its holder is taken to be dead and another process takes the run over (from its checkpoint). It must exceed the heartbeat interval, the longest pause a holder may have and the clock difference between the machines sharing the runs folder (docs/scale-out.md).",
  }),
  // --- the hub -----------------------------------------------------------------------------
  BAYES_PEFT_OFFLINE: declare(flag, {
    default: false,
    scope: 'run',
    readBy: '@bayes-peft/hub',
    description: 'Use only the local cache (as `HF_HUB_OFFLINE`); the spec\'s `hub.offline` wins over both.',
  }),
  HF_HUB_OFFLINE: declare(flag, {
    default: false,
    scope: 'run',
    readBy: '@bayes-peft/hub',
    description: 'Use only the local cache.',
  }),
  HF_ENDPOINT: declare(url, {
    default: 'https://huggingface.co',
    scope: 'run',
    readBy: '@bayes-peft/hub',
    description: "The hub's URL (a mirror); the spec's `hub.endpoint` wins over it.",
  }),
  BAYES_PEFT_CACHE: declare(folder, {
    scope: 'run',
    readBy: '@bayes-peft/hub, tooling/bench',
    description:
      'Hub cache folder, before `HF_HUB_CACHE`, `HUGGINGFACE_HUB_CACHE`, `$HF_HOME/hub` and `$XDG_CACHE_HOME/huggingface/hub` (default `~/.cache/huggingface/hub`); the spec\'s `hub.cacheDir` wins over all. `pnpm bench` keeps its generated models in `$BAYES_PEFT_CACHE/bench`.',
  }),
  HF_HUB_CACHE: declare(folder, { scope: 'run', readBy: '@bayes-peft/hub', description: 'Hub cache folder (see `BAYES_PEFT_CACHE`).' }),
  HUGGINGFACE_HUB_CACHE: declare(folder, { scope: 'run', readBy: '@bayes-peft/hub', description: 'The older name of `HF_HUB_CACHE`.' }),
  HF_HOME: declare(folder, { scope: 'run', readBy: '@bayes-peft/hub', description: 'The hub cache is `$HF_HOME/hub` (see `BAYES_PEFT_CACHE`).' }),
  XDG_CACHE_HOME: declare(folder, {
    scope: 'run',
    readBy: '@bayes-peft/hub',
    defaultText: '`~/.cache`',
    description: 'The hub cache is `$XDG_CACHE_HOME/huggingface/hub` when no other variable names one.',
  }),
  HF_TOKEN: declare(text, {
    scope: 'run',
    readBy: '@bayes-peft/hub',
    description: "Hub token for gated models; sent only to the endpoint's own origin.",
  }),
  HUGGING_FACE_HUB_TOKEN: declare(text, { scope: 'run', readBy: '@bayes-peft/hub', description: 'The older name of `HF_TOKEN`.' }),
  // --- install scripts ---------------------------------------------------------------------
  BAYES_PEFT_NATIVE_BUILD: declare(oneOf(['1', '0']), {
    default: '1',
    scope: 'install',
    readBy: "@bayes-peft/native-kernels' install script",
    description: '`0`: do not build the OpenBLAS addon (TensorFlow.js then runs plain wasm).',
  }),
  ONNXRUNTIME_NODE_INSTALL: declare(text, {
    scope: 'install',
    readBy: "onnxruntime-node's install script",
    description:
      "`skip`: install onnxruntime-node's CPU build without downloading its CUDA libraries. On linux x64 its install script downloads them by default; where that cannot happen npm leaves the optional onnxruntime-node out (the install still succeeds) and evaluation runs on TensorFlow.js, saying so in one line. `ONNXRUNTIME_NODE_INSTALL=skip npm install` then adds the CPU build.",
  }),
  // --- the tests ---------------------------------------------------------------------------
  CI: declare(present, {
    default: false,
    defaultText: 'unset',
    scope: 'tests',
    readBy: 'tests, @bayes-peft/plugin-testkit, the progress bar',
    description: 'Set (any value): tests that need `../shared`, onnxruntime or the native kernels fail instead of skipping; no progress bars.',
  }),
  BAYES_PEFT_SHARED: declare(folder, {
    scope: 'tests',
    readBy: 'tooling/fixtures, tooling/bench',
    defaultText: '`../shared` beside the project',
    description: 'The folder of real weights, golden logits and benchmark rows the tests and `pnpm bench` read.',
  }),
  BAYES_PEFT_CRASH_AT: declare(crashAt, {
    scope: 'tests',
    readBy: '@bayes-peft/env (crashPoint), the kill test',
    description:
      'Kills the process with SIGKILL the n-th time it reaches the named crash point (`train-step`, `eval-batch`, `checkpoint:adapter`, `checkpoint:state`, `checkpoint:written`, `checkpoint:swap`, `write:<file name>`; see packages/env/src/crash-point.ts), so a test can stop a run at a moment it chooses. Never set it for real work.',
  }),
  BAYES_PEFT_KILL_TEST_SEED: declare(positiveInteger, {
    default: 14,
    scope: 'tests',
    readBy: 'the kill test (packages/cli/src/kill-anywhere.e2e.test.ts)',
    description: 'Seeds the moments the kill test stops its runs at (it prints the plan it drew); another seed tries other moments.',
  }),
  BAYES_PEFT_TEST_1B: declare(flag, {
    default: false,
    scope: 'tests',
    readBy: 'tooling/fixtures tests',
    description: 'Also run the test that writes the 2.47 GB random-1b model.',
  }),
} as const;
