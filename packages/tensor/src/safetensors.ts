import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from './write-file-atomic';
import { halfBitsToFloat } from './half';

/** Element types we read; everything floating is widened to float32 for compute. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const BYTES: Record<SafetensorsDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** Bytes per element of a dtype. */
export function dtypeBytes(dtype: SafetensorsDtype): number {
  return BYTES[dtype];
}

/** Real headers are kilobytes; a length past this means a corrupt file (the Rust reader caps it at 100 MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** Node refuses single reads of 2 GiB or more, so big tensors are read in steps of this. */
const MAX_READ_BYTES = 1 << 30;

/** One tensor on the host. Floats arrive as float32, integers as int32. */
export interface HostTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly data: Float32Array | Int32Array;
}

/**
 * One tensor as stored, without widening half floats: F32 as Float32Array, BF16 and F16 as the
 * raw 16-bit patterns (Uint16Array), F64 narrowed to Float32Array, integers as Int32Array.
 */
export interface StoredTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly data: Float32Array | Uint16Array | Int32Array;
}

/** Where a tensor lives: `offset` is absolute in `file` (header included). */
export interface SafetensorsEntry {
  readonly name: string;
  readonly file: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly offset: number;
  readonly byteLength: number;
}

export class SafetensorsError extends Error {
  constructor(readonly file: string, readonly tensor: string | null, message: string) {
    super(`${file}${tensor ? ` (tensor '${tensor}')` : ''}: ${message}`);
    this.name = 'SafetensorsError';
  }
}

// ---------------------------------------------------------------------------------------------
// Header validation, shared by the in-memory parser and the file reader.

interface ParsedHeader {
  readonly entries: Map<string, SafetensorsEntry>;
  readonly metadata: Record<string, string>;
}

/** Reads the 8-byte little-endian header length and checks it against the file size. */
function headerLength(file: string, prefix: Uint8Array, size: number): number {
  if (size < 8 || prefix.byteLength < 8) throw new SafetensorsError(file, null, `truncated: ${size} bytes, no header length`);
  const len = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (len > BigInt(size - 8)) {
    throw new SafetensorsError(file, null, `truncated or corrupt: header says ${len} bytes but the file has ${size - 8} after the length`);
  }
  if (len > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(file, null, `corrupt: header length ${len} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  return Number(len);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Validates the JSON header (`json` = the bytes after the length) of a file of `size` bytes. */
function parseHeader(file: string, json: Uint8Array, size: number): ParsedHeader {
  let header: unknown;
  try {
    // fatal: invalid UTF-8 is a corrupt header (as in the Rust reader), not names with U+FFFD in them.
    header = JSON.parse(UTF8.decode(json));
  } catch (e) {
    throw new SafetensorsError(file, null, `corrupt header: ${(e as Error).message}`);
  }
  if (!isObject(header)) throw new SafetensorsError(file, null, 'corrupt header: expected a JSON object');
  const dataStart = 8 + json.byteLength;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isObject(raw)) throw new SafetensorsError(file, null, 'corrupt header: __metadata__ is not an object');
      metadata = raw as Record<string, string>;
      continue;
    }
    entries.set(name, parseEntry(file, name, raw, dataStart, size - dataStart));
  }
  checkNoOverlap(file, entries);
  return { entries, metadata };
}

/** One tensor's header entry, checked against the `dataLen` bytes that follow the header. */
function parseEntry(file: string, name: string, raw: unknown, dataStart: number, dataLen: number): SafetensorsEntry {
  const fail = (message: string): never => {
    throw new SafetensorsError(file, name, message);
  };
  if (!isObject(raw)) fail('header entry is not an object');
  const entry = raw as Record<string, unknown>;
  // hasOwn, not `in`: 'toString' is "in" every object.
  if (typeof entry.dtype !== 'string' || !Object.hasOwn(BYTES, entry.dtype)) fail(`unsupported dtype ${entry.dtype}`);
  const dtype = entry.dtype as SafetensorsDtype;
  const { shape, data_offsets: offsets } = entry;
  if (!Array.isArray(shape) || !Array.isArray(offsets)) fail('header entry lacks shape or data_offsets');
  if (!(shape as unknown[]).every(isCount)) fail(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  if ((offsets as unknown[]).length !== 2 || !(offsets as unknown[]).every(isCount)) {
    fail(`data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  const dims = shape as number[];
  const count = dims.reduce((a, b) => a * b, 1);
  if (begin > end) fail(`corrupt: data_offsets [${begin}, ${end}) end before they begin`);
  if (end > dataLen) fail(`truncated: data [${begin}, ${end}) lies beyond the ${dataLen} data bytes present`);
  if (end - begin !== count * BYTES[dtype]) {
    fail(`corrupt: ${end - begin} bytes for shape [${dims}] of ${dtype} (expected ${count * BYTES[dtype]})`);
  }
  return { name, file, dtype, shape: [...dims], offset: dataStart + begin, byteLength: end - begin };
}

/** Two tensors sharing bytes means a corrupt header (a writer never aliases storage). */
function checkNoOverlap(file: string, entries: Map<string, SafetensorsEntry>): void {
  // Empty tensors occupy no bytes, so they cannot overlap anything.
  const sorted = [...entries.values()].filter((e) => e.byteLength > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.offset < prev.offset + prev.byteLength) {
      throw new SafetensorsError(
        file,
        cur.name,
        `corrupt: bytes [${cur.offset}, ${cur.offset + cur.byteLength}) overlap tensor '${prev.name}' at [${prev.offset}, ${prev.offset + prev.byteLength})`,
      );
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

// ---------------------------------------------------------------------------------------------
// Decoding. `bytes` must start an ArrayBuffer of its own (offset 0), so typed views are aligned.

/** Floats widened to float32, integers to int32 (what compute wants). */
function widen(bytes: Uint8Array, dtype: SafetensorsDtype, count: number): Float32Array | Int32Array {
  switch (dtype) {
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const out = new Uint32Array(count);
      const src = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
      for (let i = 0; i < count; i++) out[i] = src[i] << 16;
      return new Float32Array(out.buffer);
    }
    case 'F16': {
      const out = new Float32Array(count);
      const src = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
      for (let i = 0; i < count; i++) out[i] = halfBitsToFloat(src[i]);
      return out;
    }
    default:
      // Every other dtype is stored as float32 or int32 already (or narrowed to them).
      return asStored(bytes, dtype, count) as Float32Array | Int32Array;
  }
}

/** As stored, except F64 (narrowed) and the integer dtypes (int32), which compute cannot take as is. */
function asStored(bytes: Uint8Array, dtype: SafetensorsDtype, count: number): Float32Array | Uint16Array | Int32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32':
      return new Float32Array(bytes.buffer, bytes.byteOffset, count);
    case 'BF16':
    case 'F16':
      return new Uint16Array(bytes.buffer, bytes.byteOffset, count);
    case 'F64': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true);
      return out;
    }
    case 'I64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = Number(dv.getBigInt64(i * 8, true));
      return out;
    }
    case 'I32':
      return new Int32Array(bytes.buffer, bytes.byteOffset, count);
    case 'I16':
      return Int32Array.from(new Int16Array(bytes.buffer, bytes.byteOffset, count));
    case 'I8':
      return Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, count));
    case 'U8':
    case 'BOOL':
      return Int32Array.from(bytes);
  }
}

function hostTensor(entry: SafetensorsEntry, bytes: Uint8Array): HostTensor {
  return { dtype: entry.dtype, shape: [...entry.shape], data: widen(bytes, entry.dtype, elementCount(entry.shape)) };
}

function storedTensor(entry: SafetensorsEntry, bytes: Uint8Array): StoredTensor {
  return { dtype: entry.dtype, shape: [...entry.shape], data: asStored(bytes, entry.dtype, elementCount(entry.shape)) };
}

// ---------------------------------------------------------------------------------------------
// In-memory buffers (adapters, tests).

/** Parses a whole .safetensors buffer; every inconsistency names the file and the tensor. */
export function parseSafetensors(buf: Uint8Array, file = '<buffer>'): { tensors: Map<string, HostTensor>; metadata: Record<string, string> } {
  const len = headerLength(file, buf, buf.byteLength);
  const { entries, metadata } = parseHeader(file, buf.subarray(8, 8 + len), buf.byteLength);
  const tensors = new Map<string, HostTensor>();
  // Copy into a fresh buffer: offsets in a safetensors file need not be aligned for typed views. Not
  // buf.slice(): on a Node Buffer that is a view (unaligned, and aliasing the caller's bytes).
  for (const [name, e] of entries) tensors.set(name, hostTensor(e, new Uint8Array(buf.subarray(e.offset, e.offset + e.byteLength))));
  return { tensors, metadata };
}

// ---------------------------------------------------------------------------------------------
// Files, read by byte range: only the header at open, then one tensor at a time on demand.

/** Reads exactly `length` bytes at `position` into a fresh (hence 8-byte aligned) buffer. */
async function readRange(handle: FileHandle, file: string, tensor: string | null, position: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, Math.min(length - done, MAX_READ_BYTES), position + done);
    if (bytesRead === 0) {
      throw new SafetensorsError(file, tensor, `truncated: wanted ${length} bytes at offset ${position}, the file ends after ${done} of them`);
    }
    done += bytesRead;
  }
  return out;
}

/**
 * An open .safetensors file. `open` reads and validates only the header; tensors are read one at
 * a time with positioned reads, so files of any size (and past Node's 2 GiB readFile limit) work
 * with memory proportional to the tensor read. Call close() when done.
 */
export class SafetensorsFile {
  private closed = false;

  private constructor(
    readonly file: string,
    /** The file's size in bytes. */
    readonly size: number,
    readonly metadata: Readonly<Record<string, string>>,
    readonly entries: ReadonlyMap<string, SafetensorsEntry>,
    private readonly handle: FileHandle,
  ) {}

  static async open(file: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (e) {
      throw new SafetensorsError(file, null, `cannot read: ${(e as Error).message}`);
    }
    try {
      const { size } = await handle.stat();
      const prefix = await readRange(handle, file, null, 0, Math.min(8, size));
      const len = headerLength(file, prefix, size);
      const { entries, metadata } = parseHeader(file, await readRange(handle, file, null, 8, len), size);
      return new SafetensorsFile(file, size, metadata, entries, handle);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  entry(name: string): SafetensorsEntry {
    const e = this.entries.get(name);
    if (!e) throw new SafetensorsError(this.file, name, 'no such tensor in this file');
    return e;
  }

  /** The tensor's stored bytes, in a fresh 8-byte aligned ArrayBuffer of their own. */
  async readBytes(name: string): Promise<Uint8Array> {
    const e = this.entry(name);
    if (this.closed) throw new SafetensorsError(this.file, name, 'read after close()');
    return readRange(this.handle, this.file, name, e.offset, e.byteLength);
  }

  /** Widened as parseSafetensors does: floats to float32, integers to int32. */
  async read(name: string): Promise<HostTensor> {
    return hostTensor(this.entry(name), await this.readBytes(name));
  }

  /** Without widening half floats (see StoredTensor). */
  async readStored(name: string): Promise<StoredTensor> {
    return storedTensor(this.entry(name), await this.readBytes(name));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

export async function readSafetensors(file: string): Promise<{ tensors: Map<string, HostTensor>; metadata: Record<string, string> }> {
  const st = await SafetensorsFile.open(file);
  try {
    const tensors = new Map<string, HostTensor>();
    for (const name of st.entries.keys()) tensors.set(name, await st.read(name));
    return { tensors, metadata: { ...st.metadata } };
  } finally {
    await st.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Model folders: model.safetensors, or the shards named by model.safetensors.index.json.

const INDEX_FILE = 'model.safetensors.index.json';
const SINGLE_FILE = 'model.safetensors';

/**
 * A model folder's weights across its shards, each shard opened once (header only) and kept
 * open until close(). Tensors are read on demand, by name.
 */
export class ModelWeightFiles {
  private constructor(
    readonly dir: string,
    /** Shard file names (relative to `dir`), sorted. */
    readonly files: readonly string[],
    /** Every tensor of every shard; a name the index lists points into the shard it names. */
    readonly entries: ReadonlyMap<string, SafetensorsEntry>,
    private readonly owners: ReadonlyMap<string, SafetensorsFile>,
    private readonly shards: readonly SafetensorsFile[],
  ) {}

  /** Sum of the tensors' byte lengths (the index's total_size). */
  get totalBytes(): number {
    let sum = 0;
    for (const e of this.entries.values()) sum += e.byteLength;
    return sum;
  }

  static async open(dir: string): Promise<ModelWeightFiles> {
    const index = path.join(dir, INDEX_FILE);
    if (await exists(index)) return ModelWeightFiles.fromIndex(dir, await readWeightMap(index));
    if (await exists(path.join(dir, SINGLE_FILE))) return ModelWeightFiles.fromShards(dir, [SINGLE_FILE], null);
    throw new SafetensorsError(dir, null, `no ${SINGLE_FILE} or ${INDEX_FILE} in this folder`);
  }

  private static fromIndex(dir: string, weightMap: Record<string, string>): Promise<ModelWeightFiles> {
    return ModelWeightFiles.fromShards(dir, [...new Set(Object.values(weightMap))].sort(), weightMap);
  }

  private static async fromShards(dir: string, files: string[], weightMap: Record<string, string> | null): Promise<ModelWeightFiles> {
    const shards: SafetensorsFile[] = [];
    try {
      for (const f of files) shards.push(await SafetensorsFile.open(path.join(dir, f)));
      const owners = new Map<string, SafetensorsFile>();
      // Later shards win for names the index does not list, as readModelWeights always did.
      for (const shard of shards) for (const name of shard.entries.keys()) owners.set(name, shard);
      for (const [name, f] of Object.entries(weightMap ?? {})) {
        const shard = shards[files.indexOf(f)];
        if (!shard.has(name)) throw new SafetensorsError(shard.file, name, 'listed in the index but missing from its shard');
        owners.set(name, shard);
      }
      const entries = new Map([...owners].map(([name, shard]) => [name, shard.entry(name)] as const));
      return new ModelWeightFiles(dir, files, entries, owners, shards);
    } catch (e) {
      await Promise.all(shards.map((s) => s.close()));
      throw e;
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  entry(name: string): SafetensorsEntry {
    return this.owner(name).entry(name);
  }

  async readBytes(name: string): Promise<Uint8Array> {
    return this.owner(name).readBytes(name);
  }

  async read(name: string): Promise<HostTensor> {
    return this.owner(name).read(name);
  }

  async readStored(name: string): Promise<StoredTensor> {
    return this.owner(name).readStored(name);
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.close()));
  }

  private owner(name: string): SafetensorsFile {
    const shard = this.owners.get(name);
    if (!shard) throw new SafetensorsError(this.dir, name, `no such tensor in ${this.files.join(', ')}`);
    return shard;
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

/** The index's weight_map (tensor name -> shard file name), checked. */
async function readWeightMap(index: string): Promise<Record<string, string>> {
  let weightMap: unknown;
  try {
    weightMap = JSON.parse(await fs.readFile(index, 'utf8')).weight_map;
  } catch (e) {
    throw new SafetensorsError(index, null, `corrupt index: ${(e as Error).message}`);
  }
  if (!isObject(weightMap)) throw new SafetensorsError(index, null, 'no weight_map');
  for (const [name, shard] of Object.entries(weightMap)) {
    // A shard is a file beside the index; anything else would read outside the model folder.
    if (typeof shard !== 'string' || shard !== path.basename(shard) || shard === '' || shard === '.' || shard === '..') {
      throw new SafetensorsError(index, name, `weight_map names ${JSON.stringify(shard)}, not a file name in this folder`);
    }
  }
  return weightMap as Record<string, string>;
}

/**
 * Reads a model folder's weights: `model.safetensors`, or every shard named by
 * `model.safetensors.index.json`.
 */
export async function readModelWeights(dir: string): Promise<Map<string, HostTensor>> {
  const weights = await ModelWeightFiles.open(dir);
  try {
    const out = new Map<string, HostTensor>();
    for (const name of weights.entries.keys()) out.set(name, await weights.read(name));
    return out;
  } finally {
    await weights.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Writing.

export interface WritableTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A tensor to lay out in a file before its bytes exist (streaming writers). */
export interface TensorSpec {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
}

export interface SafetensorsLayout {
  /** The 8-byte length and the JSON header, padded so the data section starts 8-byte aligned. */
  readonly header: Buffer;
  /** The tensors in file order (sorted by name, as the Python writer does), each with its data offset. */
  readonly tensors: readonly (TensorSpec & { readonly begin: number; readonly byteLength: number })[];
  /** Bytes after the header. */
  readonly dataBytes: number;
}

/** Lays out a file: header bytes and where each tensor's data goes. */
export function safetensorsLayout(specs: readonly TensorSpec[], metadata?: Record<string, string>): SafetensorsLayout {
  const sorted = [...specs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const tensors = sorted.map((s) => {
    const byteLength = elementCount(s.shape) * BYTES[s.dtype];
    header[s.name] = { dtype: s.dtype, shape: [...s.shape], data_offsets: [offset, offset + byteLength] };
    const placed = { ...s, begin: offset, byteLength };
    offset += byteLength;
    return placed;
  });
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data section starts 8-byte aligned.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const jsonBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + jsonBytes.length);
  out.writeBigUInt64LE(BigInt(jsonBytes.length), 0);
  jsonBytes.copy(out, 8);
  return { header: out, tensors, dataBytes: offset };
}

/** Serialises float32 tensors (keys sorted, as the Python writer does). */
export function serializeSafetensors(tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): Buffer {
  const specs = Object.entries(tensors).map(([name, t]) => {
    const count = elementCount(t.shape);
    if (count !== t.data.length) throw new SafetensorsError('<write>', name, `shape [${t.shape}] needs ${count} values, got ${t.data.length}`);
    return { name, dtype: 'F32' as const, shape: t.shape };
  });
  const layout = safetensorsLayout(specs, metadata);
  const out = Buffer.alloc(layout.header.length + layout.dataBytes);
  layout.header.copy(out, 0);
  for (const t of layout.tensors) {
    const d = tensors[t.name].data;
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, layout.header.length + t.begin);
  }
  return out;
}

/** Writes atomically: a temp file in the same folder, then rename. */
export async function writeSafetensors(file: string, tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}
