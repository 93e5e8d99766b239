// `pnpm bench`: one child process per model (so peak RSS is per model), a table or JSON lines on
// stdout, progress on stderr. Exit 0 unless something is broken; speed never fails it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import type { EvalEngineChoice } from '@bayes-peft/core';
import type { BenchResult } from './harness';
import type { GenerationLine } from './generation';

/** eval.engine's values (core's EVAL_ENGINES; not imported: the parent never loads the engine). */
const EVAL_ENGINES: readonly EvalEngineChoice[] = ['auto', 'tfjs', 'onnxruntime'];
import { DEFAULT_MODELS, MODELS, defaultCacheDir, defaultGenBatches, defaultShape, isModelName, locateModel, type ModelName } from './models';
import { formatGenerationTable, formatTables } from './table';
import { BACKEND_REQUESTS } from '@bayes-peft/tensor/backend-names';

/** --backend's values (tensor's list, from the subpath that does not load an engine). */
const BACKEND_CHOICES = BACKEND_REQUESTS;

export const USAGE = `usage: pnpm bench [options]

Times BLoB (LoRA r 8, alpha 16 on q_proj, v_proj, lm_head) on seeded random prompts, batch 4,
sequence 128 (random-1b: batch 1, sequence 64): ms per training step, evaluation examples/s
with 10 weight samples, peak RSS; then a generation line: tokens/s of BLoB generating 10 weight
samples per question, on the run's engine and on TensorFlow.js, and the ratio to PyTorch's.
Each model runs in its own child process. random-1b is a seeded random model of Llama-3.2-1B's
exact shapes (BF16, one 2.47 GB file, made once in the cache directory).

options:
  --models a,b        models to run: ${MODELS.join(', ')} (default: ${DEFAULT_MODELS.join(',')})
  --steps N           timed training steps, median reported (default 3)
  --warmup N          untimed training steps first (default 1)
  --eval-batches N    timed evaluation batches, median reported (default 2)
  --eval-warmup N     untimed evaluation batches first (default 1)
  --batch N           batch size (default 4; 1 for random-1b)
  --seq N             prompt length in tokens (default 128; 64 for random-1b)
  --backend NAME      ${BACKEND_CHOICES.join('|')} (default: auto, which honours $BAYES_PEFT_BACKEND)
  --engine NAME       evaluation engine: auto|tfjs|onnxruntime (default auto: onnxruntime when it
                      loads, unless $BAYES_PEFT_EVAL_ENGINE=tfjs; its threads from
                      $BAYES_PEFT_ORT_THREADS, else every core)
  --seed N            seed of the prompts and of BLoB's random draws (default 0)
  --gen-batches N     timed generate calls of the generation line, median reported (default 2;
                      random-1b 0; 0 skips the line): BLoB (q_proj, v_proj) generating 4 questions
                      x 10 weight samples, prompts of 64 tokens, 32 new tokens, temperature 0.7,
                      top-p 0.9
  --gen-warmup N      untimed generate calls first (default 1)
  --gen-engines a,b   engines of the generation line, its figures from the first (default
                      auto,tfjs: the one a run picks, then TensorFlow.js)
  --pytorch           measure PyTorch's generation figure now (tooling/bench/python/gen_bench.py;
                      needs torch: apt-get install python3-torch) instead of the recorded one
  --profile [K]       also profile one training step and one evaluation batch (tf.profile) and list
                      their top K kernels (default 12)
  --cache-dir DIR     where the random models are made (default: $BAYES_PEFT_CACHE/bench or
                      node_modules/.cache/bayes-peft)
  --json              one JSON object per line per model instead of the table
  -h, --help          this text`;

export interface CliArgs {
  models: ModelName[];
  steps: number;
  warmup: number;
  evalBatches: number;
  evalWarmup: number;
  /** Null: the model's default (defaultShape). */
  batch: number | null;
  seq: number | null;
  backend: (typeof BACKEND_CHOICES)[number];
  engine: EvalEngineChoice;
  seed: number;
  /** Null: the model's default (defaultGenBatches). */
  genBatches: number | null;
  genWarmup: number;
  genEngines: EvalEngineChoice[];
  pytorch: boolean;
  profileTop: number;
  cacheDir: string | null;
  json: boolean;
  help: boolean;
  /** Internal: run this one model in this process and print its JSON line. */
  only: ModelName | null;
  /** Internal: the folder the parent located for --only. */
  modelDir: string | null;
}

export class ArgError extends Error {}

export function parseArgs(argv: readonly string[]): CliArgs {
  const a: CliArgs = {
    models: [...DEFAULT_MODELS],
    steps: 3,
    warmup: 1,
    evalBatches: 2,
    evalWarmup: 1,
    batch: null,
    seq: null,
    backend: 'auto',
    engine: 'auto',
    seed: 0,
    genBatches: null,
    genWarmup: 1,
    genEngines: ['auto', 'tfjs'],
    pytorch: false,
    profileTop: 0,
    cacheDir: null,
    json: false,
    help: false,
    only: null,
    modelDir: null,
  };
  const int = (flag: string, v: string | undefined, min: number): number => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min) throw new ArgError(`${flag} needs an integer >= ${min}, got '${v ?? ''}'`);
    return Number(v);
  };
  const model = (flag: string, v: string): ModelName => {
    if (!isModelName(v)) throw new ArgError(`${flag}: unknown model '${v}' (known: ${MODELS.join(', ')})`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const m = /^(--[\w-]+|-h)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new ArgError(`unexpected argument '${argv[i]}'`);
    const flag = m[1];
    const inline = m[2];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new ArgError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-h':
      case '--help':
        a.help = true;
        break;
      case '--json':
        a.json = true;
        break;
      case '--pytorch':
        a.pytorch = true;
        break;
      case '--gen-batches':
        a.genBatches = int(flag, value(), 0);
        break;
      case '--gen-warmup':
        a.genWarmup = int(flag, value(), 0);
        break;
      case '--gen-engines': {
        const names = value().split(',').map((x) => x.trim()).filter(Boolean);
        const bad = names.find((n) => !(EVAL_ENGINES as readonly string[]).includes(n));
        if (names.length === 0 || bad !== undefined) throw new ArgError(`--gen-engines takes engines among ${EVAL_ENGINES.join(', ')}, got '${bad ?? ''}'`);
        a.genEngines = names as EvalEngineChoice[];
        break;
      }
      case '--models': {
        const names = value().split(',').map((s) => s.trim()).filter(Boolean);
        if (names.length === 0) throw new ArgError('--models needs at least one model');
        a.models = [...new Set(names.map((n) => model(flag, n)))];
        break;
      }
      case '--only':
        a.only = model(flag, value());
        break;
      case '--model-dir':
        a.modelDir = value();
        break;
      case '--steps':
        a.steps = int(flag, value(), 1);
        break;
      case '--warmup':
        a.warmup = int(flag, value(), 0);
        break;
      case '--eval-batches':
        a.evalBatches = int(flag, value(), 1);
        break;
      case '--eval-warmup':
        a.evalWarmup = int(flag, value(), 0);
        break;
      case '--batch':
        a.batch = int(flag, value(), 1);
        break;
      case '--seq':
        a.seq = int(flag, value(), 1);
        break;
      case '--seed':
        a.seed = int(flag, value(), 0);
        break;
      case '--backend': {
        const v = value();
        if (!(BACKEND_CHOICES as readonly string[]).includes(v)) throw new ArgError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}, got '${v}'`);
        a.backend = v as CliArgs['backend'];
        break;
      }
      case '--engine': {
        const v = value();
        if (!(EVAL_ENGINES as readonly string[]).includes(v)) throw new ArgError(`--engine must be one of ${EVAL_ENGINES.join(', ')}, got '${v}'`);
        a.engine = v as EvalEngineChoice;
        break;
      }
      case '--profile': {
        // Optional value: `--profile`, `--profile 8`, `--profile=8`.
        const next = inline ?? (/^\d+$/.test(argv[i + 1] ?? '') ? argv[++i] : undefined);
        a.profileTop = next === undefined ? 12 : int(flag, next, 1);
        break;
      }
      case '--cache-dir':
        a.cacheDir = value();
        break;
      default:
        throw new ArgError(`unknown option ${flag}`);
    }
  }
  return a;
}

/** The flags a child needs to repeat the parent's measurement. */
function childArgs(a: CliArgs, name: ModelName, dir: string): string[] {
  const out = ['--only', name, '--model-dir', dir, '--steps', String(a.steps), '--warmup', String(a.warmup)];
  const shape = defaultShape(name);
  out.push('--eval-batches', String(a.evalBatches), '--eval-warmup', String(a.evalWarmup), '--batch', String(a.batch ?? shape.batch), '--seq', String(a.seq ?? shape.seq));
  out.push('--backend', a.backend, '--engine', a.engine, '--seed', String(a.seed));
  out.push('--gen-batches', String(a.genBatches ?? defaultGenBatches(name)), '--gen-warmup', String(a.genWarmup), '--gen-engines', a.genEngines.join(','));
  if (a.pytorch) out.push('--pytorch');
  if (a.profileTop > 0) out.push('--profile', String(a.profileTop));
  return out;
}

const err = (line: string) => process.stderr.write(`${line}\n`);

/** Returns the exit code. `bin` is the script children are started with. */
export async function main(argv: readonly string[], bin: string = path.join(__dirname, '..', 'bin', 'bench.js')): Promise<number> {
  // stdout carries only results: anything a library logs goes to stderr.
  console.log = (...args: unknown[]) => err(format(...args));
  console.info = console.log;
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof ArgError)) throw e;
    err(`bench: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  return args.only ? runChild(args, args.only) : runParent(args, bin);
}

async function runChild(args: CliArgs, name: ModelName): Promise<number> {
  let dir = args.modelDir;
  if (!dir) {
    const loc = await locateModel(name, args.cacheDir ?? defaultCacheDir(), err);
    if ('skip' in loc) {
      err(`skipping ${name}: ${loc.skip}`);
      return 0;
    }
    dir = loc.dir;
  }
  // Loaded only here: the parent never starts TensorFlow.js.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { benchModel, jsonLine } = require('./harness') as typeof import('./harness');
  const result = await benchModel({
    model: name,
    dir,
    backend: args.backend,
    batch: args.batch ?? defaultShape(name).batch,
    seq: args.seq ?? defaultShape(name).seq,
    steps: args.steps,
    warmup: args.warmup,
    evalBatches: args.evalBatches,
    evalWarmup: args.evalWarmup,
    engine: args.engine,
    seed: args.seed,
    profileTop: args.profileTop,
    log: { info: err, warn: (m: string) => err(`warning: ${m}`), debug: () => undefined },
  });
  process.stdout.write(`${jsonLine(result)}\n`);
  const genBatches = args.genBatches ?? defaultGenBatches(name);
  if (genBatches > 0) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const gen = require('./generation') as typeof import('./generation');
    const log = { info: err, warn: (m: string) => err(`warning: ${m}`), debug: () => undefined };
    // The engine a run picks first (--engine), then the others asked for.
    const engines = [args.engine, ...args.genEngines.filter((e) => e !== args.engine && e !== 'auto')];
    const results = await gen.benchGeneration({ model: name, dir, engines, backend: args.backend, repeats: genBatches, warmup: args.genWarmup, seed: args.seed, log });
    const pytorch = args.pytorch ? measurePytorch(dir) : gen.PYTORCH_GENERATION[name];
    process.stdout.write(`${JSON.stringify(gen.generationLine(name, results, {}, pytorch))}\n`);
  }
  return 0;
}

/** PyTorch's generation figure measured now (tooling/bench/python/gen_bench.py, 1 thread), or undefined with a line why not. */
function measurePytorch(dir: string): { tokensPerS: number; note: string } | undefined {
  const script = path.join(__dirname, '..', 'python', 'gen_bench.py');
  // Debian's interpreter first: python3-torch installs there (a virtualenv's python3 on PATH may lack torch).
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  err(`pytorch: ${python} ${script} --model-dir ${dir} --threads 1`);
  // OpenBLAS picks its own kernel (the machine may pin an older one for other tools' sake).
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const r = spawnSync(python, [script, '--model-dir', dir, '--threads', '1'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'] });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const v = JSON.parse(last) as { gen_tokens_per_s_10_samples: number; engine: string; threads: number };
    return { tokensPerS: v.gen_tokens_per_s_10_samples, note: `${v.engine}, ${v.threads} thread(s), gen_bench.py, measured now` };
  } catch {
    err(`pytorch: no figure (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}); the generation line has no ratio`);
    return undefined;
  }
}

async function runParent(args: CliArgs, bin: string): Promise<number> {
  const cacheDir = path.resolve(args.cacheDir ?? defaultCacheDir());
  const results: BenchResult[] = [];
  const generations: GenerationLine[] = [];
  const failures: string[] = [];
  for (const name of args.models) {
    let loc;
    try {
      loc = await locateModel(name, cacheDir, err);
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message}`);
      err(`bench: ${name}: ${(e as Error).message}`);
      continue;
    }
    if ('skip' in loc) {
      err(`skipping ${name}: ${loc.skip}`);
      continue;
    }
    err(`${name}: benchmarking ${loc.dir} in a child process`);
    const { code, lines } = await runChildProcess(bin, childArgs(args, name, loc.dir));
    const own = lines.filter((l) => tryParse(l)?.model === name);
    const parsed = own.map(tryParse).filter((r): r is BenchResult => r !== null && !('line' in r));
    const gens = own.map(tryParse).filter((r): r is BenchResult & GenerationLine => r !== null && 'line' in r && (r as { line?: string }).line === 'generation');
    if (code !== 0 || parsed.length !== 1) {
      const why = code !== 0 ? `child exited with code ${code}` : `child printed ${parsed.length} result lines`;
      failures.push(`${name}: ${why}`);
      err(`bench: ${name}: ${why}`);
      continue;
    }
    results.push(parsed[0]);
    generations.push(...gens);
    if (args.json) for (const l of own) process.stdout.write(`${l}\n`);
  }
  if (!args.json && results.length > 0) process.stdout.write(formatTables(results));
  if (!args.json && generations.length > 0) process.stdout.write(`\n${formatGenerationTable(generations)}`);
  // The NLI scorer's pairs per second on tiny-nli (nli.ts), in this process after the models.
  if (!(await (require('./nli') as typeof import('./nli')).printNliBench(args.json, err))) failures.push('tiny-nli: the NLI line failed');
  if (failures.length > 0) {
    err(`bench: ${failures.length} model${failures.length === 1 ? '' : 's'} failed: ${failures.join('; ')}`);
    return 1;
  }
  return 0;
}

function tryParse(line: string): BenchResult | null {
  if (!line.startsWith('{')) return null;
  try {
    const v = JSON.parse(line) as BenchResult;
    return v && typeof v === 'object' && typeof v.model === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** Runs the bench script in a child: stderr passes through, stdout is collected (stray lines go to stderr). */
function runChildProcess(bin: string, args: string[]): Promise<{ code: number; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const lines = out.split('\n').filter(Boolean);
      for (const l of lines) if (!tryParse(l)) err(l);
      resolve({ code: code ?? (signal ? 128 : 1), lines });
    });
  });
}
