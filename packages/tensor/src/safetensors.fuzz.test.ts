import fc from 'fast-check';
import { parseSafetensors, SafetensorsError } from './safetensors';

/**
 * Hostile .safetensors buffers (issue 14 item 4). Every case must end in a SafetensorsError whose
 * message names the file, or a valid result (each tensor holding exactly shape-product values),
 * within PER_CASE_MS, without allocating more than a small multiple of the input.
 * In memory (parseSafetensors shares headerLength/parseHeader with SafetensorsFile.open), so
 * 10 000 cases take a few seconds.
 */
const SEED = 0x5afe7e55;
const NUM_RUNS = 10_000;
const PER_CASE_MS = 500;
const SUITE_MS = 20_000;
/** This process's CPU time in ms: other jobs on a shared machine barely move it (they do move wall time), so the bounds catch a hang, not a busy day. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const FILE = 'fuzz.safetensors';
const DTYPES = ['F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL', 'F8', 'bogus', 'toString'];
const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Offsets: small, at the edges of the data, huge, negative, fractional, not numbers. */
const hostileNumber = fc.oneof(
  fc.nat({ max: 64 }),
  fc.constantFrom(-1, -(2 ** 53), 1e12, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 64, 1e308, 0.5, Number.MAX_VALUE),
  fc.integer(),
  fc.double(),
);
const hostileValue = fc.oneof(hostileNumber, fc.string({ maxLength: 4 }), fc.constant(null), fc.boolean());

interface Spec {
  name: string;
  dtype: string;
  shape: unknown[];
  offsets: unknown[];
}

const validTensor = fc.record({
  name: fc.string({ minLength: 1, maxLength: 8 }),
  dtype: fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'),
  shape: fc.array(fc.nat({ max: 4 }), { maxLength: 3 }),
});

/** A well-formed header laid out back to back, then optionally corrupted. */
const layout = fc.array(validTensor, { maxLength: 5 }).map((ts) => {
  let offset = 0;
  return ts.map((t): Spec => {
    const len = t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
    const s = { ...t, offsets: [offset, offset + len] };
    offset += len;
    return s;
  });
});

type Mutation =
  | { kind: 'none' }
  | { kind: 'offsets'; at: number; offsets: unknown[] }
  | { kind: 'shape'; at: number; shape: unknown[] }
  | { kind: 'dtype'; at: number; dtype: string }
  | { kind: 'overlap'; at: number; shift: number }
  | { kind: 'metadata'; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('offsets' as const), at: fc.nat(), offsets: fc.array(hostileValue, { maxLength: 3 }) }),
  fc.record({ kind: fc.constant('shape' as const), at: fc.nat(), shape: fc.array(hostileValue, { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('dtype' as const), at: fc.nat(), dtype: fc.constantFrom(...DTYPES) }),
  fc.record({ kind: fc.constant('overlap' as const), at: fc.nat(), shift: fc.integer({ min: -16, max: 16 }) }),
  fc.record({ kind: fc.constant('metadata' as const), value: fc.jsonValue({ maxDepth: 2 }) }),
);

type Framing =
  | { kind: 'exact' }
  | { kind: 'truncate'; drop: number }
  | { kind: 'extra'; bytes: Uint8Array }
  | { kind: 'length'; value: bigint }
  | { kind: 'nonUtf8'; at: number; bytes: Uint8Array }
  | { kind: 'rawHeader'; json: string }
  | { kind: 'random'; bytes: Uint8Array };

const framing: fc.Arbitrary<Framing> = fc.oneof(
  fc.constant({ kind: 'exact' as const }),
  fc.record({ kind: fc.constant('truncate' as const), drop: fc.nat({ max: 40 }) }),
  fc.record({ kind: fc.constant('extra' as const), bytes: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({
    kind: fc.constant('length' as const),
    // 10^12, 2^63, 2^64-1, off-by-a-few around the real length (replaced below), anything.
    value: fc.oneof(fc.constantFrom(10n ** 12n, 2n ** 63n, 2n ** 64n - 1n, 100n * 1024n * 1024n + 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
  }),
  fc.record({
    kind: fc.constant('nonUtf8' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => b.map((x) => x | 0x80)),
  }),
  fc.record({ kind: fc.constant('rawHeader' as const), json: fc.oneof(fc.json({ maxDepth: 3 }), fc.string({ maxLength: 40 })) }),
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
);

function build(specs: Spec[], m: Mutation, f: Framing): Uint8Array {
  const header: Record<string, unknown> = {};
  const list = specs.map((s) => ({ ...s }));
  if (list.length > 0 && m.kind !== 'none' && m.kind !== 'metadata') {
    const t = list[m.at % list.length];
    if (m.kind === 'offsets') t.offsets = m.offsets;
    if (m.kind === 'shape') t.shape = m.shape;
    if (m.kind === 'dtype') t.dtype = m.dtype;
    if (m.kind === 'overlap') t.offsets = (t.offsets as number[]).map((o) => o + m.shift);
  }
  if (m.kind === 'metadata') header.__metadata__ = m.value;
  for (const t of list) header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: t.offsets };
  let json = Buffer.from(f.kind === 'rawHeader' ? f.json : JSON.stringify(header), 'utf8');
  if (f.kind === 'nonUtf8') {
    const at = f.at % (json.length + 1);
    json = Buffer.concat([json.subarray(0, at), Buffer.from(f.bytes), json.subarray(at)]);
  }
  const dataLen = specs.reduce((a, s) => Math.max(a, (s.offsets as number[])[1]), 0);
  const out = Buffer.alloc(8 + json.length + dataLen);
  out.writeBigUInt64LE(f.kind === 'length' ? f.value : BigInt(json.length), 0);
  json.copy(out, 8);
  for (let i = 8 + json.length; i < out.length; i++) out[i] = (i * 37) & 0xff;
  if (f.kind === 'truncate') return out.subarray(0, Math.max(0, out.length - f.drop));
  if (f.kind === 'extra') return Buffer.concat([out, f.bytes]);
  if (f.kind === 'random') return f.bytes;
  return out;
}

function checkOutcome(buf: Uint8Array): void {
  const before = process.memoryUsage().arrayBuffers;
  const t0 = cpuMs();
  let result: ReturnType<typeof parseSafetensors> | undefined;
  try {
    result = parseSafetensors(buf, FILE);
  } catch (e) {
    // Clear: our error type, naming the file, with a reason after it.
    if (!(e instanceof SafetensorsError)) throw new Error(`not a SafetensorsError: ${(e as Error)?.stack ?? String(e)}`);
    expect(e.message.startsWith(`${FILE}`)).toBe(true);
    expect(e.message.length).toBeGreaterThan(FILE.length + 5);
  }
  const ms = cpuMs() - t0;
  if (ms > PER_CASE_MS) throw new Error(`took ${ms.toFixed(0)} ms (bound ${PER_CASE_MS})`);
  if (result) {
    let bytes = 0;
    for (const [name, t] of result.tensors) {
      const count = t.shape.reduce((a, b) => a * b, 1);
      expect(t.data.length).toBe(count);
      expect(t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)).toBe(true);
      expect(typeof name).toBe('string');
      bytes += t.data.byteLength;
    }
    // Widening at most doubles (16-bit floats to float32); nothing more is ever allocated.
    expect(bytes).toBeLessThanOrEqual(2 * buf.byteLength);
  }
  // A claimed size is never allocated: growth stays a small multiple of the input (+ slack for GC timing).
  const grown = process.memoryUsage().arrayBuffers - before;
  if (grown > 4 * buf.byteLength + 16 * 1024 * 1024) throw new Error(`allocated ${grown} bytes for a ${buf.byteLength}-byte input`);
}

describe('safetensors reader under fuzzing', () => {
  it(`ends every one of ${NUM_RUNS} hostile buffers in a SafetensorsError naming the file or a valid result`, () => {
    const start = cpuMs();
    let runs = 0;
    fc.assert(
      fc.property(layout, mutation, framing, (specs, m, f) => {
        runs++;
        checkOutcome(build(specs, m, f));
      }),
      { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true },
    );
    expect(runs).toBe(NUM_RUNS);
    expect(cpuMs() - start).toBeLessThan(SUITE_MS);
  });

  it('rejects a header claiming 10^12 bytes before allocating it', () => {
    for (const len of [10n ** 12n, 2n ** 64n - 1n]) {
      const buf = Buffer.alloc(64);
      buf.writeBigUInt64LE(len, 0);
      const before = process.memoryUsage().arrayBuffers;
      expect(() => parseSafetensors(buf, FILE)).toThrow(SafetensorsError);
      expect(() => parseSafetensors(buf, FILE)).toThrow(/fuzz\.safetensors: truncated or corrupt: header says/);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
    }
  });

  it('rejects a header that is not UTF-8', () => {
    // Valid JSON if the 0xff byte were decoded leniently (as U+FFFD): a tensor name nobody wrote.
    const json = Buffer.concat([Buffer.from('{"w'), Buffer.from([0xff]), Buffer.from('": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}}')]);
    const buf = Buffer.alloc(8 + json.length);
    buf.writeBigUInt64LE(BigInt(json.length), 0);
    json.copy(buf, 8);
    expect(() => parseSafetensors(buf, FILE)).toThrow(/fuzz\.safetensors: corrupt header: .*(encoded|UTF-8|utf-8)/i);
  });

  it('rejects a tensor claiming 10^12 bytes of data before allocating it', () => {
    const json = Buffer.from(JSON.stringify({ w: { dtype: 'U8', shape: [1e12], data_offsets: [0, 1e12] } }));
    const buf = Buffer.alloc(8 + json.length + 8);
    buf.writeBigUInt64LE(BigInt(json.length), 0);
    json.copy(buf, 8);
    expect(() => parseSafetensors(buf, FILE)).toThrow(/fuzz\.safetensors \(tensor 'w'\): truncated: data \[0, 1000000000000\) lies beyond/);
  });
});
