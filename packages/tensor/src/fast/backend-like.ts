import type * as tf from '@tensorflow/tfjs-core';

/** The few members of tfjs-backend-wasm's BackendWasm our kernels touch. */
export interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** The few members of tfjs-backend-cpu's MathBackendCPU our kernels touch. */
export interface CpuBackendLike {
  readSync(dataId: tf.DataId): unknown;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
}
