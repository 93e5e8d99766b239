import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The addon's entry points (native/kernels.c). Operands are Float32Arrays with element offsets:
 * views of the wasm heap, or a cpu tensor's own array; frozen weights may also be Uint16Arrays of
 * bfloat16 / float16 bits in ordinary ArrayBuffers, outside the heap. Nothing here knows
 * TensorFlow.js; the kernels that call this are registered by @bayes-peft/tensor, which owns the
 * one tf instance.
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
  /**
   * The two products of a frozen linear layer whose weights stay in their stored dtype, outside
   * the wasm heap. W is [n, k] row-major (PyTorch's [out, in]) at w[wOffset]:
   *
   * - mode 0 (forward):  y[m, n] = x[m, k] · Wᵀ
   * - mode 1 (backward): y[m, k] = x[m, n] · W  (x is dy)
   *
   * `wDtype` 0 is float32 (`w` a Float32Array): one sgemm, the call {@link matmul} makes for the
   * same product, so the result is bit-identical to it. 1 is bfloat16 and 2 IEEE float16, `w` a
   * Uint16Array of their bits: W is widened to float32 a tile of rows at a time (8 MiB of
   * scratch per JS thread, never the whole matrix) and multiplied tile by tile. That matches the
   * float32 product of the widened W to float32 rounding, not bit for bit: in mode 0 each element
   * is the same dot product, but OpenBLAS' internal blocking restarts at every tile and rounds a
   * few percent of elements differently in the last bits (tested to 1e-6 relative); mode 1 sums
   * over tiles, another summation order (tested to 1e-5).
   *
   * Offsets count elements. y is overwritten (whatever it held), zeros for an empty inner
   * dimension. Throws TypeError for wrong argument types (w's array type must match wDtype;
   * offsets and sizes must be integers), RangeError for a wDtype or mode outside its codes, a
   * range outside its array, or y overlapping x or W (all may be views of one wasm heap).
   */
  frozenMatmul(
    x: Float32Array,
    xOffset: number,
    w: Float32Array | Uint16Array,
    wOffset: number,
    wDtype: FrozenDtype,
    y: Float32Array,
    yOffset: number,
    m: number,
    n: number,
    k: number,
    mode: 0 | 1,
  ): void;
  /**
   * dst[dstOffset + i·cols, +cols) = float32(W[rows[i], :]) for each i, W being [*, cols]
   * row-major from w[0] in `wDtype` (as in {@link frozenMatmul}): embedding lookups and selected
   * head rows, without widening the table. Rows may repeat. float16 widens exactly (subnormals,
   * ±inf, ±0; NaNs stay NaN, made quiet), bfloat16 and float32 bit for bit. Every row index
   * (0 <= r, (r+1)·cols <= w.length) and the destination range are checked before anything is
   * written: RangeError, or TypeError for wrong argument types.
   */
  widenRows(w: Float32Array | Uint16Array, wDtype: FrozenDtype, cols: number, rows: Int32Array, dst: Float32Array, dstOffset: number): void;
  /** Threads OpenBLAS uses from now on. */
  setThreads(n: number): void;
  /**
   * OpenBLAS' build string (version, target core), its current thread count, and the loops that
   * widen bfloat16 / float16 weights: 'avx2+f16c' (chosen at run time on x86 CPUs that have them)
   * or 'portable' (plain C, vectorised by the compiler; also with BAYES_PEFT_NATIVE_SIMD=0 at load).
   */
  info(): { blas: string; threads: number; widening: 'avx2+f16c' | 'avx2' | 'f16c' | 'portable' };
}

/** How frozen weights are stored: 0 float32 (a Float32Array), 1 bfloat16, 2 IEEE float16 (their bits in a Uint16Array). */
export type FrozenDtype = 0 | 1 | 2;

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
