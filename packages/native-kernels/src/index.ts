import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The addon's entry points (native/kernels.c). Operands are Float32Arrays with element offsets:
 * views of the wasm heap, or a cpu tensor's own array. Nothing here knows TensorFlow.js; the
 * kernels that call this are registered by @bayes-peft/tensor, which owns the one tf instance.
 */
export interface NativeKernels {
  /**
   * C_i = op(A_i) op(B_i) for each batch index i, A_i at a[aOffsets[i]], B_i at b[bOffsets[i]],
   * row-major; C_i at c[cOffset + i*m*n], [m, n]. op transposes when transA / transB.
   */
  matmul(
    a: Float32Array,
    aOffsets: Int32Array,
    b: Float32Array,
    bOffsets: Int32Array,
    c: Float32Array,
    cOffset: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
  ): void;
  /** Threads OpenBLAS uses from now on. */
  setThreads(n: number): void;
  /** OpenBLAS' build string (version, target core) and its current thread count. */
  info(): { blas: string; threads: number };
}

export type NativeLoad = { readonly ok: true; readonly kernels: NativeKernels } | { readonly ok: false; readonly reason: string };

const ROOT = path.resolve(__dirname, '..');
export const ADDON_PATH = path.join(ROOT, 'build', 'Release', 'native_kernels.node');

let cached: NativeLoad | null = null;

/**
 * Loads the addon built at install. When it is absent, says why in a few words: the install
 * script's own reason (build/status.json: no compiler, no OpenBLAS, ...) when it recorded one.
 */
export function loadNativeKernels(): NativeLoad {
  if (cached) return cached;
  if (!fs.existsSync(ADDON_PATH)) {
    cached = { ok: false, reason: `native kernels not built (${installReason() ?? 'the install script did not run'})` };
    return cached;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = { ok: true, kernels: require(ADDON_PATH) as NativeKernels };
  } catch (e) {
    cached = { ok: false, reason: `native kernels failed to load (${String((e as Error).message ?? e).split('\n')[0]})` };
  }
  return cached;
}

function installReason(): string | null {
  try {
    const status = JSON.parse(fs.readFileSync(path.join(ROOT, 'build', 'status.json'), 'utf8')) as { ok?: boolean; reason?: string };
    return status.ok === false && status.reason ? status.reason : null;
  } catch {
    return null;
  }
}
