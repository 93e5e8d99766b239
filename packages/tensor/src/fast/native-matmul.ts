import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from '@bayes-peft/native-kernels';
import type { CpuBackendLike, WasmBackendLike } from './backend-like';
import { planMatMul } from './matmul-plan';

/**
 * BatchMatMul kernels that hand every product, whatever its transposes and batch broadcasting,
 * to OpenBLAS' sgemm. The wasm backend's own kernel reaches its fast path only for 2-D products
 * with an untransposed right operand (1-2 GFLOP/s otherwise, ~20 at best); OpenBLAS runs every
 * case at 80+ GFLOP/s on one core here. The operands are read where they live, without copies:
 * wasm tensors sit in one WebAssembly heap that the addon sees as a Float32Array, cpu tensors in
 * their own arrays.
 */

type Attrs = { transposeA: boolean; transposeB: boolean };
type Inputs = { a: tf.TensorInfo; b: tf.TensorInfo };


function shifted(offsets: Int32Array, base: number): Int32Array {
  if (base === 0) return offsets;
  const out = new Int32Array(offsets.length);
  for (let i = 0; i < offsets.length; i++) out[i] = offsets[i] + base;
  return out;
}

/** The kernel for the wasm backend; `fallback` (the backend's own kernel) takes non-float32 operands. */
export function wasmBatchMatMul(native: NativeKernels, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as unknown as Inputs;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args);
    const { transposeA, transposeB } = args.attrs as unknown as Attrs;
    const backend = args.backend as unknown as WasmBackendLike;
    const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
    const out = backend.makeOutput(plan.outShape, 'float32');
    if (plan.aOffsets.length === 0 || plan.m === 0 || plan.n === 0) return out;
    // After makeOutput: an allocation may have grown (and so replaced) the heap's buffer.
    const heap = new Float32Array(backend.wasm.HEAPU8.buffer);
    const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset / 4;
    native.matmul(heap, shifted(plan.aOffsets, at(a)), heap, shifted(plan.bOffsets, at(b)), heap, at(out), plan.m, plan.n, plan.k, transposeA, transposeB);
    return out;
  };
}

/** The same for the cpu backend, whose float32 tensors each own a Float32Array. */
export function cpuBatchMatMul(native: NativeKernels, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as unknown as Inputs;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args);
    const { transposeA, transposeB } = args.attrs as unknown as Attrs;
    const backend = args.backend as unknown as CpuBackendLike;
    const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
    const values = new Float32Array(plan.outShape.reduce((s, d) => s * d, 1));
    if (values.length > 0 && plan.k > 0) {
      native.matmul(
        backend.readSync(a.dataId) as Float32Array,
        plan.aOffsets,
        backend.readSync(b.dataId) as Float32Array,
        plan.bOffsets,
        values,
        0,
        plan.m,
        plan.n,
        plan.k,
        transposeA,
        transposeB,
      );
    }
    return backend.makeTensorInfo(plan.outShape, 'float32', values);
  };
}
