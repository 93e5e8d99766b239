import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ModelWeightFiles,
  parseSafetensors,
  readModelWeights,
  readSafetensors,
  SafetensorsError,
  SafetensorsFile,
  safetensorsLayout,
  serializeSafetensors,
  writeSafetensors,
} from './safetensors';

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-safetensors-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** A file from a hand-written header (so tests can make it wrong) and a data section. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0)): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + json.length + data.length);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, 8 + json.length);
  return out;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

async function put(name: string, content: Uint8Array): Promise<string> {
  const file = path.join(root, name);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content);
  return file;
}

/** Rejects with a SafetensorsError whose message names the file and (when given) the tensor. */
async function expectError(p: Promise<unknown>, file: string, tensor: string | null, pattern: RegExp): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SafetensorsError);
  const err = e as SafetensorsError;
  expect(err.file).toBe(file);
  expect(err.tensor).toBe(tensor);
  expect(err.message.startsWith(file)).toBe(true);
  if (tensor) expect(err.message).toContain(`tensor '${tensor}'`);
  expect(err.message).toMatch(pattern);
}

// Bit patterns chosen to cover sign, subnormals, infinities and a NaN.
const BF16_BITS = Uint16Array.from([0x3f80, 0xbf80, 0x0001, 0x7f80, 0xff80, 0x7fc1, 0x4049, 0x0000]);
const F16_BITS = Uint16Array.from([0x3c00, 0xbc00, 0x0001, 0x7c00, 0xfc00, 0x7e01, 0x4248, 0x8000]);

/** A file holding one tensor of every dtype, at deliberately unaligned offsets (a U8 of 3 first). */
function mixedFile(): Buffer {
  const parts: [string, string, number[], Uint8Array][] = [
    ['a_u8', 'U8', [3], Uint8Array.from([1, 2, 255])],
    ['b_f32', 'F32', [2, 2], bytesOf(Float32Array.from([1.5, -2, 3.25, 1e-8]))],
    ['c_bf16', 'BF16', [8], bytesOf(BF16_BITS)],
    ['d_f16', 'F16', [2, 4], bytesOf(F16_BITS)],
    ['e_f64', 'F64', [2], bytesOf(Float64Array.from([0.1, -1e10]))],
    ['f_i64', 'I64', [2], bytesOf(BigInt64Array.from([-5n, 1n << 40n]))],
    ['g_i32', 'I32', [2], bytesOf(Int32Array.from([-7, 9]))],
    ['h_i16', 'I16', [2], bytesOf(Int16Array.from([-300, 300]))],
    ['i_i8', 'I8', [2], bytesOf(Int8Array.from([-1, 1]))],
    ['j_bool', 'BOOL', [2], Uint8Array.from([0, 1])],
    ['k_empty', 'F32', [0, 4], new Uint8Array(0)],
  ];
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, dtype, shape, data] of parts) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  const data = new Uint8Array(offset);
  offset = 0;
  for (const [, , , d] of parts) {
    data.set(d, offset);
    offset += d.byteLength;
  }
  return rawFile(header, data);
}

describe('parseSafetensors and serializeSafetensors (in memory)', () => {
  it('round-trips float32 tensors with sorted keys, metadata and an 8-byte aligned data section', () => {
    const buf = serializeSafetensors({ z: { shape: [2], data: Float32Array.from([1, 2]) }, a: { shape: [1, 3], data: Float32Array.from([3, 4, 5]) } }, { format: 'pt' });
    const headerLen = Number(buf.readBigUInt64LE(0));
    expect((8 + headerLen) % 8).toBe(0);
    const { tensors, metadata } = parseSafetensors(new Uint8Array(buf));
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['a', 'z']);
    expect(tensors.get('a')).toEqual({ dtype: 'F32', shape: [1, 3], data: Float32Array.from([3, 4, 5]) });
    expect(() => serializeSafetensors({ w: { shape: [3], data: new Float32Array(2) } })).toThrow(/<write> \(tensor 'w'\): shape \[3\] needs 3 values, got 2/);
  });

  it('safetensorsLayout gives the header serializeSafetensors writes, and where each tensor goes', () => {
    const t = { b: { shape: [3], data: new Float32Array(3) }, a: { shape: [2, 2], data: new Float32Array(4) } };
    const layout = safetensorsLayout([
      { name: 'b', dtype: 'F32', shape: [3] },
      { name: 'a', dtype: 'F32', shape: [2, 2] },
    ]);
    expect(serializeSafetensors(t).subarray(0, layout.header.length).equals(layout.header)).toBe(true);
    expect(layout.tensors.map((x) => [x.name, x.begin, x.byteLength])).toEqual([
      ['a', 0, 16],
      ['b', 16, 12],
    ]);
    expect(layout.dataBytes).toBe(28);
  });

  it('widens every dtype: floats to float32, integers to int32, from unaligned offsets', () => {
    const { tensors } = parseSafetensors(new Uint8Array(mixedFile()));
    expect(tensors.get('a_u8')!.data).toEqual(Int32Array.from([1, 2, 255]));
    expect(tensors.get('b_f32')!.data).toEqual(Float32Array.from([1.5, -2, 3.25, 1e-8]));
    expect([...tensors.get('c_bf16')!.data.slice(0, 5)]).toEqual([1, -1, Math.fround(2 ** -133), Infinity, -Infinity]);
    expect(Number.isNaN(tensors.get('c_bf16')!.data[5])).toBe(true);
    expect([...tensors.get('d_f16')!.data.slice(0, 5)]).toEqual([1, -1, 2 ** -24, Infinity, -Infinity]);
    expect(tensors.get('e_f64')!.data).toEqual(Float32Array.from([0.1, -1e10]));
    expect(tensors.get('f_i64')!.data).toEqual(Int32Array.from([-5, 0])); // 2^40 wraps, as it always did
    expect(tensors.get('g_i32')!.data).toEqual(Int32Array.from([-7, 9]));
    expect(tensors.get('h_i16')!.data).toEqual(Int32Array.from([-300, 300]));
    expect(tensors.get('i_i8')!.data).toEqual(Int32Array.from([-1, 1]));
    expect(tensors.get('j_bool')!.data).toEqual(Int32Array.from([0, 1]));
    expect(tensors.get('k_empty')).toEqual({ dtype: 'F32', shape: [0, 4], data: new Float32Array(0) });
  });
});

describe('SafetensorsFile', () => {
  it('reads the same tensors as parseSafetensors, by byte range, with absolute offsets', async () => {
    const buf = mixedFile();
    const file = await put('mixed.safetensors', buf);
    const st = await SafetensorsFile.open(file);
    try {
      expect(st.file).toBe(file);
      expect(st.size).toBe(buf.length);
      expect(st.metadata).toEqual({ format: 'pt' });
      const headerEnd = 8 + Number(buf.readBigUInt64LE(0));
      const f32 = st.entries.get('b_f32')!;
      expect(f32).toEqual({ name: 'b_f32', file, dtype: 'F32', shape: [2, 2], offset: headerEnd + 3, byteLength: 16 });
      const parsed = parseSafetensors(new Uint8Array(buf), file).tensors;
      for (const name of st.entries.keys()) expect(await st.read(name)).toEqual(parsed.get(name));
      const bytes = await st.readBytes('b_f32');
      // A fresh buffer of its own, so typed views over it are aligned whatever the file offset.
      expect(bytes.byteOffset).toBe(0);
      expect(bytes.buffer.byteLength).toBe(16);
      expect(Buffer.from(bytes).equals(buf.subarray(f32.offset, f32.offset + 16))).toBe(true);
    } finally {
      await st.close();
    }
  });

  it('readStored keeps BF16/F16 as their raw bits, equals read for F32, narrows F64 and widens integers', async () => {
    const st = await SafetensorsFile.open(await put('stored.safetensors', mixedFile()));
    try {
      const bf16 = await st.readStored('c_bf16');
      expect(bf16.data).toBeInstanceOf(Uint16Array);
      expect(bf16.data).toEqual(BF16_BITS);
      expect(bf16).toMatchObject({ dtype: 'BF16', shape: [8] });
      const f16 = await st.readStored('d_f16');
      expect(f16.data).toBeInstanceOf(Uint16Array);
      expect(f16.data).toEqual(F16_BITS);
      expect(f16.shape).toEqual([2, 4]);
      expect(await st.readStored('b_f32')).toEqual(await st.read('b_f32'));
      expect((await st.readStored('e_f64')).data).toEqual(Float32Array.from([0.1, -1e10]));
      expect((await st.readStored('h_i16')).data).toEqual(Int32Array.from([-300, 300]));
    } finally {
      await st.close();
    }
  });

  it('reads a sparse file over 2 GiB (past readFile) without reading the whole of it', async () => {
    const file = path.join(root, 'big', 'model.safetensors');
    await fs.mkdir(path.dirname(file), { recursive: true });
    const size = Math.round(2.3 * 2 ** 30);
    const tail = Float32Array.from({ length: 1024 }, (_, i) => i * 0.5 - 7);
    const tailBits = Uint16Array.from({ length: 512 }, (_, i) => (0x3c00 + i * 17) & 0xffff);
    const head = Float32Array.from([4, 5, 6]);
    // Header first; the data section is mostly a hole, the tensors sit at its two ends.
    const header = (dataStart: number) => {
      const dataLen = size - dataStart;
      return {
        head: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
        tail: { dtype: 'F32', shape: [32, 32], data_offsets: [dataLen - 4096 - 1024, dataLen - 1024] },
        tail_bf16: { dtype: 'BF16', shape: [512], data_offsets: [dataLen - 1024, dataLen] },
      };
    };
    // The header's length depends on the offsets it holds; two passes settle it.
    let dataStart = 8 + JSON.stringify(header(0)).length;
    dataStart = 8 + JSON.stringify(header(dataStart)).length;
    const prefix = rawFile(header(dataStart));
    expect(prefix.length).toBe(dataStart);
    const handle = await fs.open(file, 'w');
    try {
      await handle.write(prefix, 0, prefix.length, 0);
      await handle.write(bytesOf(head), 0, 12, dataStart);
      await handle.truncate(size);
      await handle.write(bytesOf(tail), 0, 4096, size - 4096 - 1024);
      await handle.write(bytesOf(tailBits), 0, 1024, size - 1024);
    } finally {
      await handle.close();
    }
    expect((await fs.stat(file)).size).toBeGreaterThan(2 ** 31);

    const st = await SafetensorsFile.open(file);
    try {
      expect(st.size).toBe(size);
      expect(st.entries.get('tail')!.offset).toBe(size - 4096 - 1024);
      expect((await st.read('tail')).data).toEqual(tail);
      expect((await st.readStored('tail_bf16')).data).toEqual(tailBits);
      expect((await st.read('head')).data).toEqual(head);
    } finally {
      await st.close();
    }
    const weights = await ModelWeightFiles.open(path.dirname(file));
    try {
      expect(weights.files).toEqual(['model.safetensors']);
      expect(weights.totalBytes).toBe(12 + 4096 + 1024);
      expect((await weights.read('tail')).data).toEqual(tail);
    } finally {
      await weights.close();
    }
    const all = await readModelWeights(path.dirname(file));
    expect(all.get('tail')!.data).toEqual(tail);
    expect((await readSafetensors(file)).tensors.get('head')!.data).toEqual(head);
  }, 60_000);

  afterAll(async () => {
    // The 2.3 GiB sparse file takes little disk, but do not leave it around for the rest of the run.
    await fs.rm(path.join(root, 'big'), { recursive: true, force: true });
  });
});

describe('ModelWeightFiles and readModelWeights', () => {
  const shard1 = 'model-00001-of-00002.safetensors';
  const shard2 = 'model-00002-of-00002.safetensors';
  const a = Float32Array.from([1, 2, 3, 4]);
  const b = Float32Array.from([5, 6]);
  const c = Float32Array.from([7]);

  async function twoShards(dir: string, weightMap: Record<string, string>): Promise<void> {
    await writeSafetensors(path.join(dir, shard1), { a: { shape: [2, 2], data: a }, b: { shape: [2], data: b } }, { format: 'pt' });
    await writeSafetensors(path.join(dir, shard2), { c: { shape: [1], data: c } }, { format: 'pt' });
    await fs.writeFile(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 28 }, weight_map: weightMap }));
  }

  it('opens every shard the index names, once, and reads tensors by name', async () => {
    const dir = path.join(root, 'sharded');
    await twoShards(dir, { a: shard1, b: shard1, c: shard2 });
    const open = jest.spyOn(fs, 'open');
    const weights = await ModelWeightFiles.open(dir);
    try {
      expect(weights.files).toEqual([shard1, shard2]);
      expect(open.mock.calls.map((call) => path.basename(String(call[0])))).toEqual([shard1, shard2]);
      expect([...weights.entries.keys()].sort()).toEqual(['a', 'b', 'c']);
      expect(weights.totalBytes).toBe(28);
      expect(weights.has('c')).toBe(true);
      expect(weights.has('nope')).toBe(false);
      expect(weights.entry('c')).toMatchObject({ file: path.join(dir, shard2), dtype: 'F32', shape: [1], byteLength: 4 });
      expect((await weights.read('a')).data).toEqual(a);
      expect((await weights.readStored('c')).data).toEqual(c);
      expect(new Float32Array((await weights.readBytes('b')).buffer)).toEqual(b);
      await weights.read('b');
      expect(open).toHaveBeenCalledTimes(2);
      await expectError(weights.read('nope'), dir, 'nope', /no such tensor in model-00001-of-00002\.safetensors, model-00002-of-00002\.safetensors/);
    } finally {
      open.mockRestore();
      await weights.close();
    }
    await expectError(weights.read('a'), path.join(dir, shard1), 'a', /read after close\(\)/);
    const all = await readModelWeights(dir);
    expect([...all.keys()]).toEqual(['a', 'b', 'c']);
    expect(all.get('a')).toEqual({ dtype: 'F32', shape: [2, 2], data: a });
  });

  it('reads a single model.safetensors, and names the folder when there are no weights', async () => {
    const dir = path.join(root, 'single');
    await writeSafetensors(path.join(dir, 'model.safetensors'), { w: { shape: [1], data: c } });
    const weights = await ModelWeightFiles.open(dir);
    expect(weights.files).toEqual(['model.safetensors']);
    expect((await weights.read('w')).data).toEqual(c);
    await weights.close();
    const empty = path.join(root, 'empty');
    await fs.mkdir(empty, { recursive: true });
    await expectError(ModelWeightFiles.open(empty), empty, null, /no model\.safetensors or model\.safetensors\.index\.json in this folder/);
    await expectError(readModelWeights(empty), empty, null, /no model\.safetensors or model\.safetensors\.index\.json/);
  });

  it('an index naming a tensor its shard lacks names the shard and the tensor', async () => {
    const dir = path.join(root, 'bad-index');
    await twoShards(dir, { a: shard1, b: shard1, c: shard1 });
    await expectError(ModelWeightFiles.open(dir), path.join(dir, shard1), 'c', /listed in the index but missing from its shard/);
    await expectError(readModelWeights(dir), path.join(dir, shard1), 'c', /listed in the index but missing from its shard/);
  });

  it('a corrupt index, or one naming a path outside the folder, names the index', async () => {
    const dir = path.join(root, 'corrupt-index');
    await twoShards(dir, { a: shard1 });
    const index = path.join(dir, 'model.safetensors.index.json');
    await fs.writeFile(index, '{ "weight_map": ');
    await expectError(ModelWeightFiles.open(dir), index, null, /corrupt index/);
    await fs.writeFile(index, JSON.stringify({ weight_map: { a: '../elsewhere.safetensors' } }));
    await expectError(ModelWeightFiles.open(dir), index, 'a', /not a file name in this folder/);
    await fs.writeFile(index, JSON.stringify({ metadata: {} }));
    await expectError(ModelWeightFiles.open(dir), index, null, /no weight_map/);
  });
});

describe('errors name the file and the tensor', () => {
  const f32 = (begin: number, end: number, shape = [(end - begin) / 4]) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

  /** Checks the file reader and the buffer parser report the same error. */
  async function both(name: string, content: Uint8Array, tensor: string | null, pattern: RegExp): Promise<void> {
    const file = await put(name, content);
    await expectError(SafetensorsFile.open(file), file, tensor, pattern);
    await expectError(readSafetensors(file), file, tensor, pattern);
    await expectError(Promise.resolve().then(() => parseSafetensors(content, file)), file, tensor, pattern);
  }

  it('truncated header: fewer than 8 bytes, or a header longer than the file', async () => {
    await both('short.safetensors', Uint8Array.from([1, 2, 3]), null, /truncated: 3 bytes, no header length/);
    const full = rawFile({ w: f32(0, 8) }, new Uint8Array(8));
    await both('cut-header.safetensors', full.subarray(0, 20), null, /truncated or corrupt: header says \d+ bytes but the file has 12 after the length/);
  });

  it('header length past the end, and past the 100 MiB limit', async () => {
    const past = Buffer.alloc(64);
    past.writeBigUInt64LE(1n << 40n, 0);
    await both('past-end.safetensors', past, null, /header says 1099511627776 bytes but the file has 56/);
    // A sparse 101 MiB file whose length prefix claims 101 MiB of header.
    const file = path.join(root, 'huge-header.safetensors');
    const handle = await fs.open(file, 'w');
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(101 * 2 ** 20), 0);
    await handle.write(prefix, 0, 8, 0);
    await handle.truncate(102 * 2 ** 20);
    await handle.close();
    await expectError(SafetensorsFile.open(file), file, null, /header length 105906176 exceeds the 104857600-byte limit/);
    await fs.rm(file);
  });

  it('a header that is not JSON, or not an object', async () => {
    const bad = Buffer.from('\x05\x00\x00\x00\x00\x00\x00\x00{"a":', 'latin1');
    await both('bad-json.safetensors', bad, null, /corrupt header: /);
    await both('array.safetensors', rawFile([1, 2]), null, /corrupt header: expected a JSON object/);
  });

  it('unknown dtype', async () => {
    await both('dtype.safetensors', rawFile({ w: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)), 'w', /unsupported dtype F8_E4M3/);
    await both('proto.safetensors', rawFile({ w: { dtype: 'toString', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)), 'w', /unsupported dtype toString/);
  });

  it('shape or data_offsets missing, negative or not integers', async () => {
    const data = new Uint8Array(8);
    await both('no-shape.safetensors', rawFile({ w: { dtype: 'F32', data_offsets: [0, 8] } }, data), 'w', /lacks shape or data_offsets/);
    await both('neg-shape.safetensors', rawFile({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, data), 'w', /shape \[-2\] is not a list of non-negative integers/);
    await both('frac-shape.safetensors', rawFile({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, data), 'w', /not a list of non-negative integers/);
    await both('neg-offset.safetensors', rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, data), 'w', /data_offsets \[-8,0\] is not a pair of non-negative integers/);
    await both('one-offset.safetensors', rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [8] } }, data), 'w', /is not a pair/);
    await both('backwards.safetensors', rawFile({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, data), 'w', /end before they begin/);
  });

  it('offsets past the end of the file, and a byte length that does not match the shape', async () => {
    await both('past-data.safetensors', rawFile({ a: f32(0, 8), b: f32(8, 16) }, new Uint8Array(12)), 'b', /truncated: data \[8, 16\) lies beyond the 12 data bytes present/);
    await both('size.safetensors', rawFile({ w: f32(0, 8, [3]) }, new Uint8Array(8)), 'w', /corrupt: 8 bytes for shape \[3\] of F32 \(expected 12\)/);
  });

  it('overlapping tensor ranges', async () => {
    await both('overlap.safetensors', rawFile({ a: f32(0, 16), b: f32(8, 24) }, new Uint8Array(24)), 'b', /overlap tensor 'a'/);
    // Empty tensors share offsets harmlessly; adjacent ranges do not overlap.
    const ok = await put('adjacent.safetensors', rawFile({ a: f32(0, 8), e: f32(8, 8, [0]), b: f32(8, 16) }, new Uint8Array(16)));
    const st = await SafetensorsFile.open(ok);
    expect([...st.entries.keys()]).toEqual(['a', 'e', 'b']);
    await st.close();
  });

  it('a file cut short after open: a read past the end is truncated, naming the tensor', async () => {
    const file = await put('shrinks.safetensors', rawFile({ a: f32(0, 8), b: f32(8, 16) }, new Uint8Array(16)));
    const st = await SafetensorsFile.open(file);
    try {
      await fs.truncate(file, st.entries.get('b')!.offset + 2);
      expect((await st.read('a')).data).toEqual(new Float32Array(2));
      await expectError(st.read('b'), file, 'b', /truncated: wanted 8 bytes at offset \d+, the file ends after 2 of them/);
      await expectError(st.read('zz'), file, 'zz', /no such tensor in this file/);
    } finally {
      await st.close();
    }
  });

  it('a file that cannot be opened', async () => {
    const missing = path.join(root, 'missing.safetensors');
    await expectError(SafetensorsFile.open(missing), missing, null, /cannot read: ENOENT/);
    await expectError(readSafetensors(missing), missing, null, /cannot read/);
  });
});
