import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readEnv } from '@bayes-peft/env';
import { applyFastPath, restoreKernels, type FastPathChoice } from './fast/fast-path';
import { BACKENDS, type BackendName, type BackendRequest } from './backend-names';

export { BACKENDS, BACKEND_REQUESTS, type BackendName, type BackendRequest } from './backend-names';

/** Environment variable that replaces an `auto` request (an explicit request wins over it); declared in @bayes-peft/env. */
export const BACKEND_ENV = 'BAYES_PEFT_BACKEND';

export interface BackendChoice {
  /** The engine in use. */
  readonly name: BackendName;
  /** Why each better engine was not used (empty when the best one was taken or one was requested). */
  readonly reasons: string[];
  /** What was asked for, after the environment override. */
  readonly requested: BackendRequest;
  /** Build details of the chosen engine, e.g. `simd` for wasm; `native <kernels>` when the fast path runs. */
  readonly details: string[];
  /**
   * Whether native OpenBLAS kernels replace the engine's hottest ones (wasm and cpu only; see
   * fast/fast-path.ts), and the line that says so.
   */
  readonly fast: FastPathChoice;
}

/** Where the chosen line goes: a function, or anything with `info` (core's Logger). */
export type BackendLog = ((line: string) => void) | { info(line: string): void };

const NATIVE_PACKAGE: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/** tfjs' own registry name of each engine. */
const TFJS_NAME: Record<BackendName, string> = {
  'tensorflow-gpu': 'tensorflow',
  tensorflow: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

let current: { request: BackendRequest; choice: Promise<BackendChoice> } | null = null;

/**
 * Picks and initialises the TensorFlow.js engine for this process and logs one line saying
 * what it chose and why it skipped each better one.
 *
 * `auto` (replaced by $BAYES_PEFT_BACKEND when set) tries tensorflow-gpu > tensorflow > wasm >
 * cpu. The native packages download libtensorflow at install time and are optional peer
 * dependencies: they are looked up at run time and skipped with the reason when absent or
 * broken. An explicit request that cannot be met throws instead of falling back.
 *
 * Idempotent: once an engine is chosen, further `auto` calls and calls naming the same engine
 * return the first choice without logging again; naming a different engine switches to it.
 */
export function initBackend(requested: BackendRequest = 'auto', log?: BackendLog): Promise<BackendChoice> {
  const effective = resolveRequest(requested);
  if (current && (requested === 'auto' || effective === current.request)) return current.choice;
  if (current && effective !== 'auto') {
    // Switching: a wish for the engine already in use needs no work.
    const prev = current.choice;
    const next = prev.then(
      (c) => (c.name === effective ? c : choose(effective, log)),
      () => choose(effective, log),
    );
    current = { request: effective, choice: next };
    return next;
  }
  const choice = choose(effective, log);
  current = { request: effective, choice };
  // A failed choice must not stick: the next call tries again.
  choice.catch(() => {
    if (current?.choice === choice) current = null;
  });
  return choice;
}

/** The engine chosen so far, or null before `initBackend` has finished. */
export async function currentBackend(): Promise<BackendChoice | null> {
  return current ? current.choice.catch(() => null) : null;
}

function resolveRequest(requested: BackendRequest): BackendRequest {
  if (!isRequest(requested)) {
    throw new Error(`backend '${String(requested)}' is not one of auto, ${BACKENDS.join(', ')}`);
  }
  if (requested !== 'auto') return requested;
  return readEnv(BACKEND_ENV);
}

function isRequest(value: unknown): value is BackendRequest {
  return value === 'auto' || (BACKENDS as readonly unknown[]).includes(value);
}

async function choose(request: BackendRequest, log?: BackendLog): Promise<BackendChoice> {
  const candidates: readonly BackendName[] = request === 'auto' ? BACKENDS : [request];
  const reasons: string[] = [];
  for (const name of candidates) {
    const failure = await tryBackend(name);
    if (failure === null) {
      const details = await describe(name);
      const fast = name === 'wasm' || name === 'cpu' ? applyFastPath(name) : notApplicable(name);
      if (fast.enabled) details.push('native matmul');
      const choice: BackendChoice = { name, reasons, requested: request, details, fast };
      emit(log, formatLine(choice));
      emit(log, fast.line);
      return choice;
    }
    if (request !== 'auto') throw new Error(`backend ${name} was requested but is unavailable: ${failure}`);
    reasons.push(`${name}: ${failure}`);
  }
  // cpu ships with @bayes-peft/tensor, so reaching this means tfjs itself is broken.
  throw new Error(`no TensorFlow.js backend could be initialised (${reasons.join('; ')})`);
}

/** Initialises one engine; returns null on success, else why it is unusable. */
async function tryBackend(name: BackendName): Promise<string | null> {
  try {
    if (name === 'tensorflow-gpu' || name === 'tensorflow') {
      const pkg = NATIVE_PACKAGE[name];
      if (!isInstalled(pkg)) return `${pkg} not installed`;
      const failure = loadNative(pkg);
      if (failure) return failure;
    } else if (name === 'wasm') {
      if (!isInstalled('@tensorflow/tfjs-backend-wasm')) return '@tensorflow/tfjs-backend-wasm not installed';
      prepareWasm();
    }
    const ok = await tf.setBackend(TFJS_NAME[name]);
    if (!ok) return `tf.setBackend('${TFJS_NAME[name]}') failed`;
    await tf.ready();
    return null;
  } catch (e) {
    return `failed to load (${firstLine(e)})`;
  }
}

/**
 * Loads a native binding package, which registers the `tensorflow` backend and its kernels.
 * It throws when its native addon is missing: the package's install script downloads
 * libtensorflow and builds the addon, and it did not run (pnpm runs no install script it was not
 * allowed to) or could not download. The GPU build also needs CUDA and cuDNN on the machine,
 * which no install script provides. Kernels it registered before failing are removed again, so
 * trying the other native package does not re-register them noisily.
 */
function loadNative(pkg: string): string | null {
  try {
    require(pkg);
    return null;
  } catch (e) {
    for (const k of tf.getKernelsForBackend('tensorflow')) tf.unregisterKernel(k.kernelName, 'tensorflow');
    const msg = firstLine(e);
    const gpu = pkg.endsWith('-gpu');
    if (/tfjs_binding\.node\) can not be found/.test(msg)) {
      return (
        `${pkg} is installed without its native addon (its install script, which downloads libtensorflow, did not run or could not download` +
        `${gpu ? '; the GPU build also needs CUDA and cuDNN on the machine' : ''}): where it can work, run it (npm rebuild ${pkg}; under pnpm allow its build first), else uninstall ${pkg}`
      );
    }
    return gpu
      ? `${pkg} failed to load (${msg}): it needs CUDA and cuDNN on the machine; without them uninstall ${pkg}`
      : `${pkg} failed to load (${msg}): reinstall it, or uninstall ${pkg}`;
  }
}

function isInstalled(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

let wasmPrepared = false;

/**
 * Registers the wasm backend and points it at the package's own .wasm files: the loader's
 * default location is relative to the running script, which bundlers and test runners move.
 * tfjs picks the SIMD binary itself when the runtime validates SIMD; its threaded build is
 * browser-only (tfjs disables it under Node), so Node runs the single-threaded SIMD build.
 */
function prepareWasm(): void {
  if (wasmPrepared) return;
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  wasm.setWasmPaths(dist + path.sep);
  wasmPrepared = true;
}

/** The native engines run their own compiled kernels: nothing to replace. */
function notApplicable(name: BackendName): FastPathChoice {
  restoreKernels();
  return { enabled: false, kernels: [], line: `fast path: not needed (${name} runs compiled kernels)` };
}

async function describe(name: BackendName): Promise<string[]> {
  if (name !== 'wasm') return [];
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return [simd ? 'simd' : 'no simd', threads ? 'threaded' : 'single-threaded'];
}

function formatLine(choice: BackendChoice): string {
  const details = choice.details.length ? ` [${choice.details.join(', ')}]` : '';
  if (choice.requested !== 'auto') return `backend: ${choice.name}${details} (requested)`;
  const why = choice.reasons.length ? ` (${choice.reasons.join('; ')})` : '';
  return `backend: ${choice.name}${details}${why}`;
}

function emit(log: BackendLog | undefined, line: string): void {
  if (!log) process.stderr.write(`${line}\n`);
  else if (typeof log === 'function') log(line);
  else log.info(line);
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String((e as { message: unknown }).message) : String(e);
  return msg.split('\n')[0];
}
