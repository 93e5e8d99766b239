import * as tf from '@tensorflow/tfjs-core';

interface WasmLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
}
interface CpuLike {
  data: { get(dataId: tf.DataId): { values?: unknown } | undefined };
}

/**
 * A float32 tensor's elements as a host Float32Array without copying where the backend allows
 * it: a view into the wasm heap, or the cpu backend's own array; other backends (tensorflow)
 * give a copy. A view is read-only by contract and valid only until the next tfjs allocation
 * (growing the wasm heap replaces its buffer): take it, use it, drop it.
 */
export function hostView(t: tf.Tensor): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`hostView: expected a float32 tensor, got ${t.dtype}`);
  const backend = tf.backend() as unknown as Partial<WasmLike & CpuLike>;
  const dataId = (t as unknown as { dataId: tf.DataId }).dataId;
  if (backend.wasm && backend.dataIdMap) {
    const entry = backend.dataIdMap.get(dataId);
    if (entry) return new Float32Array(backend.wasm.HEAPU8.buffer, entry.memoryOffset, t.size);
  }
  if (backend.data) {
    const values = backend.data.get(dataId)?.values;
    if (values instanceof Float32Array && values.length === t.size) return values;
  }
  return t.dataSync() as Float32Array;
}
