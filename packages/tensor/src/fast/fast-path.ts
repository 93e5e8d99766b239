import * as tf from '@tensorflow/tfjs-core';
import { envText, readEnv } from '@bayes-peft/env';
import { loadNativeKernels, type NativeKernels } from '@bayes-peft/native-kernels';
import { cpuBatchMatMul, wasmBatchMatMul } from './native-matmul';
import { wasmGatherV2, wasmSlice } from './heap-copy';
import { installLeanGradients, uninstallLeanGradients } from './lean-gradients';
import { wasmCast, wasmIdentity } from './shared-data';

/**
 * `BAYES_PEFT_FAST=0` keeps the plain backend (the fast path is on by default when it can be).
 * It switches the kernels only: the evaluation engine is BAYES_PEFT_EVAL_ENGINE's. Both are
 * declared, with every other variable, in @bayes-peft/env.
 */
export const FAST_ENV = 'BAYES_PEFT_FAST';
/**
 * OpenBLAS threads (default 1), and nothing else: onnxruntime's are BAYES_PEFT_ORT_THREADS. Not
 * every core by default: with 2 threads OpenBLAS sums some products in another order, and BLoB's
 * training (noise, many steps) then ends elsewhere, so a seed's results would depend on the
 * machine's core count; on small models one thread is also the faster. onnxruntime's evaluation
 * does use every core (its results do not change with them).
 */
export const THREADS_ENV = 'BAYES_PEFT_THREADS';

/** Backends whose hot kernels the native addon can replace. */
export type FastBackend = 'wasm' | 'cpu';

export interface FastPathChoice {
  /** Whether the native matmul runs. */
  readonly enabled: boolean;
  /** Kernels replaced, native and in-heap (empty when BAYES_PEFT_FAST=0). */
  readonly kernels: string[];
  /** One line for the log: what runs and why. */
  readonly line: string;
}

type MakeKernel = (native: NativeKernels, fallback: tf.KernelFunc) => tf.KernelFunc;

/** Kernels that call the OpenBLAS addon. */
const NATIVE: Record<FastBackend, Record<string, MakeKernel>> = {
  wasm: { [tf.BatchMatMul]: wasmBatchMatMul },
  cpu: { [tf.BatchMatMul]: cpuBatchMatMul },
};

/** Kernels in TypeScript that only avoid the backend's needless copies: they need no addon. */
const PLAIN: Record<FastBackend, Record<string, (fallback: tf.KernelFunc) => tf.KernelFunc>> = {
  wasm: { [tf.Identity]: () => wasmIdentity(), [tf.Cast]: wasmCast, [tf.Slice]: wasmSlice, [tf.GatherV2]: wasmGatherV2 },
  cpu: {},
};

/** Each backend's own kernel configs, kept while ours replace them, to be put back. */
const replaced = new Map<string, tf.KernelConfig>();

/**
 * Unless BAYES_PEFT_FAST is 0: replaces the hot kernels of `backend` by the in-heap ones and,
 * when the addon was built, by native OpenBLAS ones, and installs lean gradients. With
 * BAYES_PEFT_FAST=0 puts the backend's own kernels and gradients back. Says in one line which
 * path runs and why.
 */
export function applyFastPath(backend: FastBackend): FastPathChoice {
  if (!readEnv(FAST_ENV)) {
    restoreKernels();
    return { enabled: false, kernels: [], line: `fast path: off (${envText(FAST_ENV)}); plain ${backend} kernels` };
  }
  restoreKernels();
  const load = loadNativeKernels();
  const plain = Object.entries(PLAIN[backend])
    .filter(([name, make]) => replace(backend, name, (own) => make(own)))
    .map(([name]) => name);
  // Engine-wide: the backward pass frees what it no longer needs as it goes.
  installLeanGradients();
  const copies = `${plain.length ? `; in-heap ${plain.join(', ')}` : ''}; lean gradients`;
  if (!load.ok) {
    // A machine without a compiler or OpenBLAS: the backend's own matrix kernels.
    return {
      enabled: false,
      kernels: plain,
      line: `fast path: unavailable (${load.reason}); plain ${backend} matmul${copies}`,
    };
  }
  const native = load.kernels;
  const threads = threadCount();
  native.setThreads(threads);
  const names = Object.entries(NATIVE[backend])
    .filter(([name, make]) => replace(backend, name, (own) => make(native, own)))
    .map(([name]) => name);
  const blas = native.info().blas.split(' ').slice(0, 2).join(' ');
  return {
    enabled: true,
    kernels: [...names, ...plain],
    line: `fast path: native ${names.join(', ')} on ${backend} (${blas}, ${threads} thread${threads === 1 ? '' : 's'})${copies}; ${FAST_ENV}=0 disables`,
  };
}

/** Swaps the backend's kernel `name` for make(own kernel); false when the backend has none. */
function replace(backend: FastBackend, name: string, make: (own: tf.KernelFunc) => tf.KernelFunc): boolean {
  const own = tf.getKernel(name, backend);
  if (!own) return false;
  replaced.set(key(name, backend), own);
  tf.unregisterKernel(name, backend);
  tf.registerKernel({ kernelName: name, backendName: backend, kernelFunc: make(own.kernelFunc) });
  return true;
}

/** Puts every replaced kernel back: the backends run their own kernels again. */
export function restoreKernels(): void {
  uninstallLeanGradients();
  for (const config of replaced.values()) {
    tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
  }
  replaced.clear();
}

/** Whether `kernel` of `backend` is currently one of ours (native or in-heap). */
export function isFastKernel(kernel: string, backend: FastBackend): boolean {
  return replaced.has(key(kernel, backend));
}

function threadCount(): number {
  return readEnv(THREADS_ENV);
}

function key(kernel: string, backend: string): string {
  return `${backend}_${kernel}`;
}

/**
 * Whether the engine in use multiplies by a transposed operand as fast as by a plain one:
 * libtensorflow and the native OpenBLAS matmul do; the plain wasm backend does not (its fast
 * path wants an untransposed right operand). Models pick their weight layout by this.
 */
export function transposesAreCheap(): boolean {
  const b = tf.getBackend();
  return b === 'tensorflow' || ((b === 'wasm' || b === 'cpu') && isFastKernel(tf.BatchMatMul, b));
}
