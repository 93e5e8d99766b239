import * as tf from '@tensorflow/tfjs-core';

/**
 * Slice and GatherV2 for the wasm backend as plain copies inside its heap. The backend's own
 * Slice first copies the whole input out of the heap (readSync) to take a part of it, so taking
 * the last position of [4, 128, 512] copies 1 MiB; its Gather loops element by element, so
 * looking up 512 embedding rows took ~25 ms. Here every contiguous run is one copyWithin on the
 * heap, with no copy of the input.
 */

interface WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  readSync(dataId: tf.DataId): unknown;
}

const BYTES: Partial<Record<tf.DataType, number>> = { float32: 4, int32: 4, bool: 1 };

/** The heap as elements of `bytes` bytes (after any allocation: growing the heap replaces its buffer). */
function heapOf(backend: WasmHeapBackend, bytes: number): Int32Array | Uint8Array {
  const buf = backend.wasm.HEAPU8.buffer;
  return bytes === 4 ? new Int32Array(buf) : new Uint8Array(buf);
}

function offsetOf(backend: WasmHeapBackend, t: tf.TensorInfo, bytes: number): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset / bytes;
}

export function wasmSlice(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as unknown as { x: tf.TensorInfo };
    const bytes = BYTES[x.dtype];
    if (bytes === undefined) return fallback(args);
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    const backend = args.backend as unknown as WasmHeapBackend;
    const out = backend.makeOutput(s, x.dtype);
    const total = s.reduce((p, d) => p * d, 1);
    if (total === 0) return out;
    const heap = heapOf(backend, bytes);
    const src = offsetOf(backend, x, bytes);
    let dst = offsetOf(backend, out, bytes);
    const rank = x.shape.length;
    if (rank === 0) {
      heap.copyWithin(dst, src, src + 1);
      return out;
    }
    const strides = tf.util.computeStrides(x.shape);
    // Merge the trailing axes that are taken whole into one contiguous run.
    let inner = rank - 1;
    let run = s[inner];
    while (inner > 0 && s[inner] === x.shape[inner]) {
      inner--;
      run *= s[inner];
    }
    const idx = new Array<number>(inner).fill(0);
    const count = total / run;
    for (let i = 0; i < count; i++) {
      let from = src + b[inner] * (inner < rank - 1 ? strides[inner] : 1);
      for (let d = 0; d < inner; d++) from += (b[d] + idx[d]) * strides[d];
      heap.copyWithin(dst, from, from + run);
      dst += run;
      for (let d = inner - 1; d >= 0; d--) {
        if (++idx[d] < s[d]) break;
        idx[d] = 0;
      }
    }
    return out;
  };
}

export function wasmGatherV2(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x, indices } = args.inputs as unknown as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number };
    const bytes = BYTES[x.dtype];
    if (bytes === undefined || batchDims !== 0 || indices.dtype !== 'int32') return fallback(args);
    const backend = args.backend as unknown as WasmHeapBackend;
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const dim = x.shape[ax];
    const ids = backend.readSync(indices.dataId) as Int32Array;
    for (let i = 0; i < ids.length; i++) {
      if (!(ids[i] >= 0 && ids[i] < dim)) throw new Error(`GatherV2: the index value ${ids[i]} is not in [0, ${dim - 1}]`);
    }
    const outer = x.shape.slice(0, ax).reduce((p, d) => p * d, 1);
    const slice = x.shape.slice(ax + 1).reduce((p, d) => p * d, 1);
    const outShape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
    const out = backend.makeOutput(outShape, x.dtype);
    if (outer * ids.length * slice === 0) return out;
    const heap = heapOf(backend, bytes);
    const src = offsetOf(backend, x, bytes);
    let dst = offsetOf(backend, out, bytes);
    for (let o = 0; o < outer; o++) {
      const base = src + o * dim * slice;
      if (slice === 1) {
        for (let j = 0; j < ids.length; j++) heap[dst + j] = heap[base + ids[j]];
        dst += ids.length;
        continue;
      }
      for (let j = 0; j < ids.length; j++) {
        const from = base + ids[j] * slice;
        heap.copyWithin(dst, from, from + slice);
        dst += slice;
      }
    }
    return out;
  };
}
