// Every package takes TensorFlow.js from here so one process holds one engine and one backend.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradient functions (its CommonJS build leaves them out), so
// tf.grad / variableGrads would fail with "gradient function not found". The union package's
// Node build carries all of them; it shares this tfjs-core instance and adds no backend in Node.
// @tensorflow/tfjs-node depends on it too, so the native engines cost nothing extra.
import '@tensorflow/tfjs';

export { tf };
export * from './backend';
export * from './safetensors';
export * from './write-file-atomic';
export { FAST_ENV, THREADS_ENV, isFastKernel, transposesAreCheap, type FastPathChoice } from './fast/fast-path';
export { hostView } from './host-view';
export {
  frozenLinear,
  gatherHostRows,
  halfBitsToFloat,
  hostMatMul,
  hostMatrix,
  hostMatrixBytes,
  hostProductPath,
  widenRows,
  HOST_MATMUL,
  type HostFloatDtype,
  type HostMatrix,
  type HostProduct,
} from './host-matrix';
