import * as tf from '@tensorflow/tfjs-core';

/**
 * Identity and same-dtype Cast for the wasm backend without a copy: the output shares the
 * input's memory and the backend counts one more reference, exactly as the backend's own
 * Reshape does (and as the cpu backend's Identity does). Tensors are immutable, so sharing is
 * safe. The wasm backend's own kernels copy, and TensorFlow.js' gradients call them a lot
 * (Multiply's gradient casts both operands to float32, Cast's gradient clones dy): 1 628
 * Identity calls in one random-40M training step, among them two copies of the 62.5 MiB
 * embedding, every one also a new allocation in a heap that never shrinks.
 */

interface RefCounting {
  incRef(dataId: tf.DataId): void;
}

type Unary = { x: tf.TensorInfo };

export function wasmIdentity(): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as unknown as Unary;
    if (x.dtype === 'string') throw new Error('fast Identity: string tensors are not handled here');
    (args.backend as unknown as RefCounting).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

/** Cast to the dtype the tensor already has is an Identity; real conversions go to the backend's kernel. */
export function wasmCast(fallback: tf.KernelFunc): tf.KernelFunc {
  const identity = wasmIdentity();
  return (args) => {
    const { x } = args.inputs as unknown as Unary;
    const { dtype } = args.attrs as unknown as { dtype: tf.DataType };
    return x.dtype === dtype && dtype !== 'string' ? identity(args) : fallback(args);
  };
}
