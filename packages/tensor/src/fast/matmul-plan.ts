/**
 * The shape arithmetic of one BatchMatMul, kept apart from any backend so it can be tested on
 * its own: output shape, the m/n/k of each product, and where each product's operands start
 * (element offsets) once the batch axes are broadcast, as numpy and TensorFlow.js do.
 */
export interface MatMulPlan {
  readonly outShape: number[];
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** One entry per product: element offset of its A block, of its B block. */
  readonly aOffsets: Int32Array;
  readonly bOffsets: Int32Array;
}

export function planMatMul(aShape: readonly number[], bShape: readonly number[], transA: boolean, transB: boolean): MatMulPlan {
  if (aShape.length < 2 || bShape.length < 2) {
    throw new Error(`matMul: both operands need rank >= 2, got [${aShape}] and [${bShape}]`);
  }
  const ar = aShape.length;
  const br = bShape.length;
  const m = transA ? aShape[ar - 1] : aShape[ar - 2];
  const kA = transA ? aShape[ar - 2] : aShape[ar - 1];
  const kB = transB ? bShape[br - 1] : bShape[br - 2];
  const n = transB ? bShape[br - 2] : bShape[br - 1];
  if (kA !== kB) {
    throw new Error(
      `Error in matMul: inner shapes (${kA}) and (${kB}) of Tensors with shapes ${aShape} and ${bShape} and transposeA=${transA} and transposeB=${transB} must match.`,
    );
  }
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  // Right-aligned, size-1 axes stretch.
  const aDims = [...new Array<number>(rank - aBatch.length).fill(1), ...aBatch];
  const bDims = [...new Array<number>(rank - bBatch.length).fill(1), ...bBatch];
  const outBatch = aDims.map((d, i) => {
    const e = bDims[i];
    if (d !== e && d !== 1 && e !== 1) {
      throw new Error(`Operands could not be broadcast together with shapes ${aShape} and ${bShape}.`);
    }
    return d === 1 ? e : d;
  });
  const count = outBatch.reduce((s, d) => s * d, 1);
  const aBlock = m * kA;
  const bBlock = kA * n;
  const aOffsets = new Int32Array(count);
  const bOffsets = new Int32Array(count);
  // Strides of each operand's batch axes, in blocks; 0 on a broadcast axis.
  const aStride = stridesOf(aDims);
  const bStride = stridesOf(bDims);
  const index = new Array<number>(rank).fill(0);
  for (let i = 0; i < count; i++) {
    let ai = 0;
    let bi = 0;
    for (let d = 0; d < rank; d++) {
      if (aDims[d] !== 1) ai += index[d] * aStride[d];
      if (bDims[d] !== 1) bi += index[d] * bStride[d];
    }
    aOffsets[i] = ai * aBlock;
    bOffsets[i] = bi * bBlock;
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < outBatch[d]) break;
      index[d] = 0;
    }
  }
  return { outShape: [...outBatch, m, n], m, n, k: kA, aOffsets, bOffsets };
}

function stridesOf(dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length);
  let s = 1;
  for (let d = dims.length - 1; d >= 0; d--) {
    out[d] = s;
    s *= dims[d];
  }
  return out;
}
