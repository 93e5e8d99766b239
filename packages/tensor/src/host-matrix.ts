import * as tf from '@tensorflow/tfjs-core';
import { loadNativeKernels, type NativeKernels } from '@bayes-peft/native-kernels';
import type { CpuBackendLike, WasmBackendLike } from './fast/backend-like';
import { isFastKernel } from './fast/fast-path';
import { halfBitsToFloat } from './half';

/** The float dtypes a frozen matrix may be kept in, as safetensors names them. */
export type HostFloatDtype = 'F32' | 'BF16' | 'F16';

/**
 * A frozen weight matrix W [rows, cols] (PyTorch layout: out features x in features) kept in
 * its stored dtype in ordinary host memory, outside the backend's heap. On the wasm backend
 * every tensor lives in one 32-bit WebAssembly heap (4 GiB at most): a 1B-parameter model as
 * float32 tensors (4.9 GB) cannot fit there, its BF16 bytes in host memory (2.5 GB) can. The
 * products a frozen layer needs (y = x W^T, and dx = dy W for training) read it where it is.
 */
export interface HostMatrix {
  /** For messages: the tensor's name in the checkpoint. */
  readonly name: string;
  readonly dtype: HostFloatDtype;
  readonly rows: number;
  readonly cols: number;
  /** Row-major elements: float32 values, or the raw bits of bfloat16 / float16 values. */
  readonly data: Float32Array | Uint16Array;
}

const DTYPE_CODE: Record<HostFloatDtype, 0 | 1 | 2> = { F32: 0, BF16: 1, F16: 2 };
const BYTES: Record<HostFloatDtype, number> = { F32: 4, BF16: 2, F16: 2 };

/** Checks that `data` holds a [rows, cols] matrix of `dtype` and returns it as a HostMatrix. */
export function hostMatrix(name: string, dtype: HostFloatDtype, shape: readonly number[], data: Float32Array | Uint16Array): HostMatrix {
  if (shape.length !== 2) throw new Error(`${name}: a host matrix is 2-D, got shape [${shape}]`);
  const [rows, cols] = shape;
  const wantArray = dtype === 'F32' ? Float32Array : Uint16Array;
  if (!(data instanceof wantArray)) throw new Error(`${name}: ${dtype} data must be a ${wantArray.name}, got ${data.constructor.name}`);
  if (data.length !== rows * cols) throw new Error(`${name}: shape [${rows}, ${cols}] needs ${rows * cols} elements, got ${data.length}`);
  return { name, dtype, rows, cols, data };
}

/** Bytes the matrix occupies as stored. */
export function hostMatrixBytes(m: HostMatrix): number {
  return m.rows * m.cols * BYTES[m.dtype];
}

export { halfBitsToFloat };

/**
 * Rows `rows` of W widened to float32, [rows.length, cols] (all rows when omitted). The native
 * kernel does it where it is built; this loop is the portable path and the reference.
 */
export function widenRows(m: HostMatrix, rows?: ArrayLike<number>): Float32Array {
  const ids = rows ?? Int32Array.from({ length: m.rows }, (_, i) => i);
  const out = new Float32Array(ids.length * m.cols);
  for (let i = 0; i < ids.length; i++) {
    const r = ids[i];
    if (!Number.isInteger(r) || r < 0 || r >= m.rows) throw new Error(`${m.name}: row ${r} is outside [0, ${m.rows})`);
  }
  const native = nativeKernels();
  if (native && m.dtype !== 'F32') {
    native.widenRows(m.data, DTYPE_CODE[m.dtype], m.cols, Int32Array.from(ids), out, 0);
    return out;
  }
  for (let i = 0; i < ids.length; i++) {
    const begin = ids[i] * m.cols;
    if (m.dtype === 'F32') {
      out.set((m.data as Float32Array).subarray(begin, begin + m.cols), i * m.cols);
    } else if (m.dtype === 'BF16') {
      // bfloat16 is the top half of a float32: widening is exact.
      const bits = new Uint32Array(out.buffer, i * m.cols * 4, m.cols);
      for (let j = 0; j < m.cols; j++) bits[j] = m.data[begin + j] << 16;
    } else {
      for (let j = 0; j < m.cols; j++) out[i * m.cols + j] = halfBitsToFloat(m.data[begin + j]);
    }
  }
  return out;
}

/** The kernel name under which the native product is registered for the wasm and cpu backends. */
export const HOST_MATMUL = 'BayesPeftHostMatMul';

/** y = x W^T ('xWt': x [m, cols] -> [m, rows]) or y = x W ('xW': x [m, rows] -> [m, cols]). */
export type HostProduct = 'xWt' | 'xW';

type Attrs = { matrix: HostMatrix; product: HostProduct };

function outShape(x: tf.TensorInfo, m: HostMatrix, product: HostProduct): [number, number] {
  const [rows, inner] = x.shape;
  const want = product === 'xWt' ? m.cols : m.rows;
  if (x.shape.length !== 2 || inner !== want) throw new Error(`${m.name}: x [${x.shape}] does not fit W [${m.rows}, ${m.cols}] for ${product}`);
  return [rows, product === 'xWt' ? m.rows : m.cols];
}

/**
 * The product as a kernel of `backend`: x and the output where that backend keeps them (views
 * of the wasm heap, or the cpu backend's own arrays), W where it is; no copies.
 */
function hostKernel(backend: 'wasm' | 'cpu', native: NativeKernels): tf.KernelFunc {
  return (args) => {
    const x = (args.inputs as { x: tf.TensorInfo }).x;
    const { matrix, product } = args.attrs as unknown as Attrs;
    const shape = outShape(x, matrix, product);
    const run = (xs: Float32Array, xOffset: number, ys: Float32Array, yOffset: number) =>
      native.frozenMatmul(xs, xOffset, matrix.data, 0, DTYPE_CODE[matrix.dtype], ys, yOffset, shape[0], matrix.rows, matrix.cols, product === 'xWt' ? 0 : 1);
    if (backend === 'cpu') {
      const cpu = args.backend as unknown as CpuBackendLike;
      const values = new Float32Array(shape[0] * shape[1]);
      if (values.length > 0) run(cpu.readSync(x.dataId) as Float32Array, 0, values, 0);
      return cpu.makeTensorInfo(shape, 'float32', values);
    }
    const wasm = args.backend as unknown as WasmBackendLike;
    const out = wasm.makeOutput(shape, 'float32');
    if (shape[0] === 0 || shape[1] === 0) return out;
    // After makeOutput: an allocation may have grown (and so replaced) the heap's buffer.
    const heap = new Float32Array(wasm.wasm.HEAPU8.buffer);
    const at = (t: tf.TensorInfo) => wasm.dataIdMap.get(t.dataId)!.memoryOffset / 4;
    run(heap, at(x), heap, at(out));
    return out;
  };
}

function registerKernels(native: NativeKernels): void {
  for (const backend of ['wasm', 'cpu'] as const) {
    if (!tf.getKernel(HOST_MATMUL, backend)) tf.registerKernel({ kernelName: HOST_MATMUL, backendName: backend, kernelFunc: hostKernel(backend, native) });
  }
}

let nativeState: NativeKernels | null | undefined;

/** The addon when it is built and has the frozen-matrix entry points, else null. */
function nativeKernels(): NativeKernels | null {
  if (nativeState === undefined) {
    const load = loadNativeKernels();
    nativeState = load.ok && typeof load.kernels.frozenMatmul === 'function' ? load.kernels : null;
    if (nativeState) registerKernels(nativeState);
  }
  return nativeState;
}

/**
 * How host matrices are multiplied on the backend in use: `native` (the OpenBLAS addon reads
 * them in place, widening 16-bit tiles inside the kernel) or `upload` (each product widens the
 * whole matrix into a temporary tensor: slow, but correct on any backend).
 */
export function hostProductPath(): 'native' | 'upload' {
  const b = tf.getBackend();
  // The fast path's switch (BAYES_PEFT_FAST=0) covers these kernels too.
  return (b === 'wasm' || b === 'cpu') && isFastKernel(tf.BatchMatMul, b) && nativeKernels() ? 'native' : 'upload';
}

/**
 * x W^T or x W for a host matrix W, without a gradient (see frozenLinear for one). The result
 * is a new float32 tensor; x must be float32 [m, k].
 */
export function hostMatMul(x: tf.Tensor2D, m: HostMatrix, product: HostProduct): tf.Tensor2D {
  if (x.dtype !== 'float32') throw new Error(`${m.name}: x must be float32, got ${x.dtype}`);
  if (hostProductPath() === 'native') {
    return tf.engine().runKernel(HOST_MATMUL, { x }, { matrix: m, product } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
  }
  return tf.tidy(() => {
    const w = tf.tensor2d(widenRows(m), [m.rows, m.cols], 'float32');
    return product === 'xWt' ? tf.matMul(x, w, false, true) : tf.matMul(x, w);
  });
}

/**
 * y = x W^T as a differentiable op of x (W frozen): the gradient is dy W, computed from the
 * host matrix again, so nothing of W is kept on the backend between the forward and the
 * backward pass.
 */
export function frozenLinear(m: HostMatrix): (x: tf.Tensor2D) => tf.Tensor2D {
  return tf.customGrad(((x: tf.Tensor2D) => ({
    value: hostMatMul(x, m, 'xWt'),
    gradFunc: (dy: tf.Tensor2D) => hostMatMul(dy, m, 'xW'),
  })) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D) => tf.Tensor2D;
}

/** Rows of W as a float32 tensor [ids.length, cols]: embedding lookups and head columns. */
export function gatherHostRows(m: HostMatrix, ids: ArrayLike<number>): tf.Tensor2D {
  return tf.tensor2d(widenRows(m, ids), [ids.length, m.cols], 'float32');
}
