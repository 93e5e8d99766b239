import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from './write-file-atomic';

/** Element types we read; everything floating is widened to float32 for compute. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const BYTES: Record<SafetensorsDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** One tensor on the host. Floats arrive as float32, integers as int32. */
export interface HostTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly data: Float32Array | Int32Array;
}

export class SafetensorsError extends Error {
  constructor(readonly file: string, readonly tensor: string | null, message: string) {
    super(`${file}${tensor ? ` (tensor '${tensor}')` : ''}: ${message}`);
    this.name = 'SafetensorsError';
  }
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Parses a whole .safetensors buffer; every inconsistency names the file and the tensor. */
export function parseSafetensors(buf: Uint8Array, file = '<buffer>'): { tensors: Map<string, HostTensor>; metadata: Record<string, string> } {
  if (buf.byteLength < 8) throw new SafetensorsError(file, null, `truncated: ${buf.byteLength} bytes, no header length`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > buf.byteLength - 8) {
    throw new SafetensorsError(file, null, `truncated or corrupt: header says ${headerLen} bytes but the file has ${buf.byteLength - 8} after the length`);
  }
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 8, headerLen).toString('utf8'));
  } catch (e) {
    throw new SafetensorsError(file, null, `corrupt header: ${(e as Error).message}`);
  }
  const dataStart = 8 + headerLen;
  const dataLen = buf.byteLength - dataStart;
  const tensors = new Map<string, HostTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const entry = raw as HeaderEntry;
    const dtype = entry.dtype as SafetensorsDtype;
    if (!(dtype in BYTES)) throw new SafetensorsError(file, name, `unsupported dtype ${entry.dtype}`);
    if (!Array.isArray(entry.shape) || !Array.isArray(entry.data_offsets)) {
      throw new SafetensorsError(file, name, 'header entry lacks shape or data_offsets');
    }
    const [begin, end] = entry.data_offsets;
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (end > dataLen || begin > end) {
      throw new SafetensorsError(file, name, `truncated: data [${begin}, ${end}) lies beyond the ${dataLen} data bytes present`);
    }
    if (end - begin !== count * BYTES[dtype]) {
      throw new SafetensorsError(file, name, `corrupt: ${end - begin} bytes for shape [${entry.shape}] of ${dtype} (expected ${count * BYTES[dtype]})`);
    }
    tensors.set(name, { dtype, shape: entry.shape, data: decode(buf, dataStart + begin, count, dtype) });
  }
  return { tensors, metadata };
}

function decode(buf: Uint8Array, offset: number, count: number, dtype: SafetensorsDtype): Float32Array | Int32Array {
  // Copy first: offsets in a safetensors file need not be aligned for typed-array views.
  const bytes = buf.slice(offset, offset + count * BYTES[dtype]);
  const dv = new DataView(bytes.buffer);
  switch (dtype) {
    case 'F32':
      return new Float32Array(bytes.buffer);
    case 'F64': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true);
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const out = new Uint32Array(count);
      const src = new Uint16Array(bytes.buffer);
      for (let i = 0; i < count; i++) out[i] = src[i] << 16;
      return new Float32Array(out.buffer);
    }
    case 'F16': {
      const out = new Float32Array(count);
      const src = new Uint16Array(bytes.buffer);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(src[i]);
      return out;
    }
    case 'I64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = Number(dv.getBigInt64(i * 8, true));
      return out;
    }
    case 'I32':
      return new Int32Array(bytes.buffer);
    case 'I16':
      return Int32Array.from(new Int16Array(bytes.buffer));
    case 'I8':
      return Int32Array.from(new Int8Array(bytes.buffer));
    case 'U8':
    case 'BOOL':
      return Int32Array.from(bytes);
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

export async function readSafetensors(file: string): Promise<{ tensors: Map<string, HostTensor>; metadata: Record<string, string> }> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (e) {
    throw new SafetensorsError(file, null, `cannot read: ${(e as Error).message}`);
  }
  return parseSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), file);
}

/**
 * Reads a model folder's weights: `model.safetensors`, or every shard named by
 * `model.safetensors.index.json`.
 */
export async function readModelWeights(dir: string): Promise<Map<string, HostTensor>> {
  const index = path.join(dir, 'model.safetensors.index.json');
  const single = path.join(dir, 'model.safetensors');
  const exists = async (p: string) => fs.access(p).then(() => true, () => false);
  if (await exists(index)) {
    let weightMap: Record<string, string>;
    try {
      weightMap = JSON.parse(await fs.readFile(index, 'utf8')).weight_map;
    } catch (e) {
      throw new SafetensorsError(index, null, `corrupt index: ${(e as Error).message}`);
    }
    if (!weightMap || typeof weightMap !== 'object') throw new SafetensorsError(index, null, 'no weight_map');
    const out = new Map<string, HostTensor>();
    for (const shard of [...new Set(Object.values(weightMap))].sort()) {
      const { tensors } = await readSafetensors(path.join(dir, shard));
      for (const [k, v] of tensors) out.set(k, v);
    }
    for (const [name, shard] of Object.entries(weightMap)) {
      if (!out.has(name)) throw new SafetensorsError(path.join(dir, shard), name, 'listed in the index but missing from its shard');
    }
    return out;
  }
  if (await exists(single)) return (await readSafetensors(single)).tensors;
  throw new SafetensorsError(dir, null, 'no model.safetensors or model.safetensors.index.json in this folder');
}

export interface WritableTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Serialises float32 tensors (keys sorted, as the Python writer does). */
export function serializeSafetensors(tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): Buffer {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new SafetensorsError('<write>', name, `shape [${t.shape}] needs ${count} values, got ${t.data.length}`);
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + count * 4] };
    offset += count * 4;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data section starts 8-byte aligned.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const d = tensors[name].data;
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, pos);
    pos += d.byteLength;
  }
  return out;
}

/** Writes atomically: a temp file in the same folder, then rename. */
export async function writeSafetensors(file: string, tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}
