import { execFileSync } from 'node:child_process';
import { ADDON_PATH, loadNativeKernels, type FrozenDtype } from './index';

const load = loadNativeKernels();
// CI installs OpenBLAS and builds the addon (.ci/run), so there a missing addon is a failure,
// not a reason to skip the only tests of the frozen-weight kernels.
if (!load.ok && process.env.CI) throw new Error(`native kernels are required in CI: ${load.reason}`);
const describeBuilt = load.ok ? describe : describe.skip;
if (!load.ok) process.stderr.write(`frozen-weight kernel tests skipped: ${load.reason}\n`);

// Jest runs this file in a vm context, where every global lookup (Math, ...) goes through the
// context's interceptors: ~0.5 us each, minutes over the millions of elements below. Hoisted once.
const { imul, abs, max, floor } = Math;

/** mulberry32: seeded, so a failing shape reproduces. Uniform in [-1, 1). */
function random(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = imul(s ^ (s >>> 15), 1 | s);
    t = (t + imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

// Plain loops rather than TypedArray.from(arrayLike, fn): that path is slow here (see above).
function randomF32(r: () => number, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r();
  return a;
}

/** bfloat16 bits of random values: the top halves of random float32s. */
function randomBf16(r: () => number, n: number): Uint16Array {
  const bits = new Uint32Array(randomF32(r, n).buffer);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = bits[i] >>> 16;
  return out;
}

/** float16 bits of random values in +-[2^-8, 4), with a few subnormals mixed in. */
function randomF16(r: () => number, n: number): Uint16Array {
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const sign = r() < 0 ? 0x8000 : 0;
    const mantissa = floor((r() + 1) * 512) & 0x3ff;
    const exponent = r() < -0.98 ? 0 : 7 + floor((r() + 1) * 5); // 0 (subnormal) or 7..16
    out[i] = sign | (exponent << 10) | mantissa;
  }
  return out;
}

/** IEEE binary16 bits to a number, spelled out from the definition (Node 20 has no Float16Array). */
function f16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** The float32 matrix the addon should see for W: widened here in JS, the reference. */
function widenOnHost(bits: Uint16Array, dtype: 1 | 2): Float32Array {
  const out = new Float32Array(bits.length);
  if (dtype === 1) {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
  } else {
    for (let i = 0; i < bits.length; i++) out[i] = f16ToNumber(bits[i]);
  }
  return out;
}

/** The first index where two arrays differ in their bits, -1 when none does. */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (ua.length !== ub.length) return ua.length < ub.length ? ua.length : ub.length;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

/** max |a - b| / max |b|: normwise, since single elements of random sums can cancel to ~0. */
function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = max(diff, abs(a[i] - b[i]));
    scale = max(scale, abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** What a call throws, by name (errors made by the addon need not be this realm's classes). */
function thrown(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
  return 'nothing';
}

describeBuilt('frozenMatmul and widenRows', () => {
  const k = load.ok ? load.kernels : (null as never);
  const at = (...xs: number[]) => new Int32Array(xs);
  let threadsBefore = 1;
  beforeAll(() => {
    threadsBefore = k.info().threads;
  });
  afterAll(() => k.setThreads(threadsBefore));

  // Offsets into larger arrays, so that a wrong base or stride reads or writes the wrong place.
  const XO = 3;
  const WO = 5;
  const YO = 7;

  /** y = frozenMatmul(...) in a NaN-filled array with YO elements of padding on each side. */
  function frozen(x: Float32Array, w: Float32Array | Uint16Array, dtype: FrozenDtype, m: number, n: number, kk: number, mode: 0 | 1) {
    const out = m * (mode === 0 ? n : kk);
    const y = new Float32Array(YO + out + YO).fill(NaN);
    k.frozenMatmul(x, XO, w, WO, dtype, y, YO, m, n, kk, mode);
    // Nothing outside y's range written.
    expect(y.subarray(0, YO).every(Number.isNaN) && y.subarray(YO + out).every(Number.isNaN)).toBe(true);
    return y.subarray(YO, YO + out);
  }

  /** x (mode 0: [m, k]; mode 1: dy, [m, n]) at offset XO. */
  const input = (r: () => number, m: number, n: number, kk: number, mode: 0 | 1) => randomF32(r, XO + m * (mode === 0 ? kk : n));
  /** W's float32 values at offset WO, then stored as `dtype` (same values, float32 W when dtype 0). */
  function weights(r: () => number, dtype: FrozenDtype, n: number, kk: number): { stored: Float32Array | Uint16Array; wide: Float32Array } {
    if (dtype === 0) {
      const w = randomF32(r, WO + n * kk);
      return { stored: w, wide: w };
    }
    const bits = dtype === 1 ? randomBf16(r, WO + n * kk) : randomF16(r, WO + n * kk);
    return { stored: bits, wide: widenOnHost(bits, dtype) };
  }

  it('float32 W: one sgemm, bit for bit the BatchMatMul product (x W^T forward, dy W backward)', () => {
    const r = random(1);
    const shapes = [
      [1, 1, 1],
      [1, 3, 17],
      [3, 17, 67],
      [17, 67, 3],
      [67, 300, 17],
      [300, 17, 67],
      [5, 1000, 300],
      [64, 300, 67],
    ];
    for (const [m, n, kk] of shapes) {
      const { stored: w } = weights(r, 0, n, kk);
      for (const mode of [0, 1] as const) {
        const x = input(r, m, n, kk, mode);
        const y = frozen(x, w, 0, m, n, kk, mode);
        const c = new Float32Array(y.length);
        if (mode === 0) k.matmul(x, at(XO), w as Float32Array, at(WO), c, 0, m, n, kk, false, true);
        else k.matmul(x, at(XO), w as Float32Array, at(WO), c, 0, m, kk, n, false, false);
        expect({ m, n, k: kk, mode, firstDifference: firstBitDifference(y, c) }).toEqual({ m, n, k: kk, mode, firstDifference: -1 });
      }
    }
  });

  describe.each([
    ['bfloat16', 1],
    ['float16', 2],
  ] as const)('%s W, widened a tile of rows at a time', (_name, dtype) => {
    // Tiles are 8 MiB of float32 (native/kernels.c, TILE_BYTES): 2048 columns make 1024-row
    // tiles, 8192 columns 256-row ones, and 2.2M columns are wider than a whole tile (1 row).
    const shapes = [
      [17, 67, 300], // one tile
      [5, 1000, 300], // one tile of 1000 rows
      [64, 1500, 2048], // 1024 + 476 rows
      [5, 1000, 8192], // 3 x 256 + 232 rows
      [3, 600, 8192], // 2 x 256 + 88 rows
      [2, 3, 2_200_000], // one row per tile
    ];

    it.each([1, 2])('equals float32 on the host-widened W (%i OpenBLAS threads)', (threads) => {
      k.setThreads(threads);
      const r = random(10 + dtype);
      for (const [m, n, kk] of shapes) {
        const { stored, wide } = weights(r, dtype, n, kk);
        for (const mode of [0, 1] as const) {
          const x = input(r, m, n, kk, mode);
          const y = frozen(x, stored, dtype, m, n, kk, mode);
          const reference = frozen(x, wide, 0, m, n, kk, mode);
          const where = { m, n, k: kk, mode };
          // Every element written, none left at the NaN y held: the first tile of mode 1 uses
          // beta 0 and must not read it.
          expect({ ...where, nan: y.findIndex(Number.isNaN) }).toEqual({ ...where, nan: -1 });
          // Mode 0 computes each element as the same dot product over k, but not always with the
          // same rounding: OpenBLAS blocks W's rows (its M dimension) internally, an element's
          // last bits depend on where its row falls in that blocking, and each tile restarts it. On OpenBLAS 0.3.21 (Haswell kernels) 2-5% of
          // the elements differ in their last bits at m = 64 (max error 4e-7 of max |y|), none at
          // m <= 5; that is an OpenBLAS internal, so only a float32-rounding-sized error is
          // required. Mode 1 sums over tiles (y += dy[:, tile] W[tile, :]), another order.
          expect({ ...where, small: relativeError(y, reference) < (mode === 0 ? 1e-6 : 1e-5) }).toEqual({ ...where, small: true });
        }
      }
    });

    it('writes zeros for an empty inner dimension and nothing for an empty output', () => {
      const w = new Uint16Array(6).fill(0x3f80);
      const y = new Float32Array(6).fill(7);
      k.frozenMatmul(new Float32Array(0), 0, w, 0, dtype, y, 0, 2, 3, 0, 0); // k = 0: y[2, 3] = 0
      expect([...y]).toEqual([0, 0, 0, 0, 0, 0]);
      y.fill(7);
      k.frozenMatmul(new Float32Array(0), 0, w, 0, dtype, y, 0, 3, 0, 2, 1); // n = 0: y[3, 2] = 0
      expect([...y]).toEqual([0, 0, 0, 0, 0, 0]);
      y.fill(7);
      k.frozenMatmul(new Float32Array(0), 0, w, 0, dtype, y, 0, 0, 3, 2, 0); // m = 0
      k.frozenMatmul(new Float32Array(6), 0, w, 0, dtype, y, 0, 2, 0, 3, 0); // n = 0 forward: y[2, 0]
      k.frozenMatmul(new Float32Array(6), 0, w, 0, dtype, y, 0, 2, 3, 0, 1); // k = 0 backward: y[2, 0]
      expect([...y]).toEqual([7, 7, 7, 7, 7, 7]);
    });
  });

  /**
   * All 65536 values widened through widenRows, from a table of `cols` columns (padded with
   * repeats): 256 columns run only the 8-wide SIMD loop, 13 columns its scalar tail as well.
   */
  function widenAll(dtype: 1 | 2, cols: number): Float32Array {
    const rows = Math.ceil(65536 / cols);
    const table = new Uint16Array(rows * cols);
    for (let i = 0; i < table.length; i++) table[i] = i & 0xffff;
    const dst = new Float32Array(table.length);
    k.widenRows(table, dtype, cols, Int32Array.from({ length: rows }, (_, i) => i), dst, 0);
    return dst.subarray(0, 65536);
  }

  it.each([256, 13])('widens every float16 value exactly, %i columns a row', (cols) => {
    const dst = widenAll(2, cols);
    let wrong = -1;
    for (let h = 0; h < 65536 && wrong < 0; h++) {
      const want = f16ToNumber(h);
      if (Number.isNaN(want) ? !Number.isNaN(dst[h]) : !Object.is(dst[h], Math.fround(want))) wrong = h;
    }
    expect(wrong).toBe(-1);
  });

  it('widens float16 subnormals, +-0, +-inf, the largest finite value and NaNs', () => {
    const specials = [0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x3c00, 0xc000];
    const row = new Float32Array(specials.length);
    k.widenRows(Uint16Array.from(specials), 2, specials.length, at(0), row, 0);
    expect([...row]).toEqual([0, -0, 2 ** -24, -(2 ** -24), 1023 * 2 ** -24, 2 ** -14, 65504, -65504, Infinity, -Infinity, 1, -2]);
    expect(Object.is(row[0], 0) && Object.is(row[1], -0)).toBe(true);
    // NaNs: made quiet, payload and sign kept (what F16C's vcvtph2ps does; the portable loop
    // matches it, so the bits do not depend on the CPU).
    const nans = new Float32Array(3);
    k.widenRows(Uint16Array.from([0x7e00, 0x7c01, 0xfe00]), 2, 3, at(0), nans, 0);
    expect([...new Uint32Array(nans.buffer)].map((b) => b.toString(16))).toEqual(['7fc00000', '7fc02000', 'ffc00000']);
  });

  it.each([256, 13])('widens every bfloat16 value bit for bit, %i columns a row', (cols) => {
    const dst = widenAll(1, cols);
    const want = new Uint32Array(65536);
    for (let i = 0; i < 65536; i++) want[i] = i << 16;
    expect(firstBitDifference(dst, new Float32Array(want.buffer))).toBe(-1);
  });

  it('widens the same bits with the portable loops (BAYES_PEFT_NATIVE_SIMD=0) as with AVX2 / F16C', () => {
    // The switch is read when the addon loads, so the portable run is another process.
    const script = `
      const k = require(${JSON.stringify(ADDON_PATH)});
      const table = new Uint16Array(65546).map((_, i) => i & 0xffff);
      const rows = Int32Array.from({ length: 65546 / 13 }, (_, i) => i);
      const out = {};
      for (const dtype of [1, 2]) {
        const dst = new Float32Array(65546);
        k.widenRows(table, dtype, 13, rows, dst, 0);
        out[dtype] = Buffer.from(dst.buffer, 0, 65536 * 4).toString('base64');
      }
      process.stdout.write(JSON.stringify({ widening: k.info().widening, ...out }));`;
    const child = JSON.parse(
      execFileSync(process.execPath, ['-e', script], { env: { ...process.env, BAYES_PEFT_NATIVE_SIMD: '0' }, encoding: 'utf8' }),
    ) as Record<string, string>;
    expect(child.widening).toBe('portable');
    for (const dtype of [1, 2] as const) {
      const portable = new Float32Array(new Uint8Array(Buffer.from(child[dtype], 'base64')).buffer);
      expect({ dtype, firstDifference: firstBitDifference(portable, widenAll(dtype, 13)) }).toEqual({ dtype, firstDifference: -1 });
    }
  });

  it.each([
    ['float32', 0],
    ['bfloat16', 1],
    ['float16', 2],
  ] as const)('gathers rows of a %s table, repeats included, at a destination offset', (_name, dtype) => {
    // W = [5, 3]: row r holds r + 0.5, r + 1, -(r + 2), all exact in every dtype.
    const values = Array.from({ length: 5 }, (_, r) => [r + 0.5, r + 1, -(r + 2)]).flat();
    const w = dtype === 0 ? Float32Array.from(values) : Uint16Array.from(values, (v) => (dtype === 1 ? toBf16(v) : toF16(v)));
    const dst = new Float32Array(2 + 4 * 3 + 1).fill(-99);
    k.widenRows(w, dtype, 3, at(4, 0, 4, 2), dst, 2);
    expect([...dst]).toEqual([-99, -99, 4.5, 5, -6, 0.5, 1, -2, 4.5, 5, -6, 2.5, 3, -4, -99]);
    k.widenRows(w, dtype, 3, at(), dst, 15); // no rows: nothing to write, even at the very end
  });

  it('refuses a row outside the table or a short destination before writing anything', () => {
    const w = new Float32Array(14); // 4 whole rows of 3, and 2 elements of a fifth
    const dst = new Float32Array(6).fill(-1);
    expect(thrown(() => k.widenRows(w, 0, 3, at(0, 4), dst, 0))).toMatch(/^RangeError: widenRows: rows\[1\] = 4 lies outside w/);
    expect(thrown(() => k.widenRows(w, 0, 3, at(-1), dst, 0))).toMatch(/^RangeError: .*rows\[0\] = -1/);
    expect(thrown(() => k.widenRows(new Uint16Array(14), 1, 3, at(0, 2147483647), dst, 0))).toMatch(/^RangeError: .*lies outside w/);
    expect(thrown(() => k.widenRows(w, 0, 3, at(0, 1, 2), dst, 0))).toMatch(/^RangeError: .*destination/);
    expect(thrown(() => k.widenRows(w, 0, 3, at(0, 1), dst, 1))).toMatch(/^RangeError: .*destination/);
    expect(thrown(() => k.widenRows(w, 0, 3, at(0), dst, -1))).toMatch(/^RangeError: .*destination/);
    expect(thrown(() => k.widenRows(w, 0, -3, at(0), dst, 0))).toMatch(/^RangeError: .*cols/);
    expect([...dst]).toEqual([-1, -1, -1, -1, -1, -1]);
    k.widenRows(w, 0, 3, at(3, 3), dst, 0); // the last whole row is fine
  });

  it('throws on wrong argument types instead of reading memory as the wrong thing', () => {
    const x = new Float32Array(6);
    const w32 = new Float32Array(6);
    const w16 = new Uint16Array(6);
    const y = new Float32Array(4);
    const call = (...args: unknown[]) => thrown(() => (k.frozenMatmul as (...a: unknown[]) => void)(...args));
    expect(call(x, 0, w32, 0, 0, y, 0, 2, 2, 3, 0)).toBe('nothing');
    expect(call(x, 0, w32, 0, 1, y, 0, 2, 2, 3, 0)).toMatch(/^TypeError: frozenMatmul: w must be a Uint16Array \(bfloat16 bits\) for wDtype 1/);
    expect(call(x, 0, w16, 0, 0, y, 0, 2, 2, 3, 0)).toMatch(/^TypeError: frozenMatmul: w must be a Float32Array for wDtype 0/);
    expect(call(new Uint32Array(new Int32Array(3).buffer), 0, w16, 0, 2, y, 0, 2, 2, 3, 0)).toMatch(/^TypeError: .*bad argument types/);
    expect(call([0, 0, 0, 0, 0, 0], 0, w16, 0, 1, y, 0, 2, 2, 3, 0)).toMatch(/^TypeError/);
    expect(call(x, 0.5, w16, 0, 1, y, 0, 2, 2, 3, 0)).toMatch(/^TypeError/); // a fractional offset
    expect(call(x, NaN, w16, 0, 1, y, 0, 2, 2, 3, 0)).toMatch(/^TypeError/);
    expect(call(x, '0', w16, 0, 1, y, 0, 2, 2, 3, 0)).toMatch(/^TypeError/);
    expect(call(x, 0, w16, 0, 1, y, 0, 2, 2, 3)).toMatch(/^TypeError: frozenMatmul: expected 11 arguments/);
    expect(call(x, 0, w16, 0, 3, y, 0, 2, 2, 3, 0)).toMatch(/^RangeError: frozenMatmul: wDtype/);
    expect(call(x, 0, w16, 0, 1, y, 0, 2, 2, 3, 2)).toMatch(/^RangeError: frozenMatmul: mode/);
    expect(thrown(() => k.widenRows(w16, 0, 3, at(0), y, 0))).toMatch(/^TypeError: widenRows: w must be a Float32Array/);
    expect(thrown(() => k.widenRows(w16, 1, 3, [0] as unknown as Int32Array, y, 0))).toMatch(/^TypeError: widenRows: bad argument types/);
    expect(thrown(() => k.widenRows(w16, 1, 3, at(0), new Float64Array(4) as unknown as Float32Array, 0))).toMatch(/^TypeError/);
  });

  it('throws on ranges outside the arrays, and on y overlapping an operand', () => {
    const x = new Float32Array(6);
    const w = new Uint16Array(6);
    const y = new Float32Array(4);
    const call = (xo: number, wo: number, yo: number, m: number, n: number, kk: number, mode: 0 | 1) =>
      thrown(() => k.frozenMatmul(x, xo, w, wo, 1, y, yo, m, n, kk, mode));
    expect(call(0, 0, 0, 2, 2, 3, 0)).toBe('nothing'); // x [2, 3], W [2, 3], y [2, 2]: exactly fits
    expect(call(1, 0, 0, 2, 2, 3, 0)).toMatch(/^RangeError: frozenMatmul: x range/);
    expect(call(-1, 0, 0, 2, 2, 3, 0)).toMatch(/^RangeError: frozenMatmul: x range/);
    expect(call(2 ** 40, 0, 0, 2, 2, 3, 0)).toMatch(/^RangeError: frozenMatmul: x range/);
    expect(call(0, 1, 0, 2, 2, 3, 0)).toMatch(/^RangeError: frozenMatmul: w range/);
    expect(call(0, 0, 1, 2, 2, 3, 0)).toMatch(/^RangeError: frozenMatmul: y range/);
    // Mode 1 reads x as [m, n] and writes y as [m, k]: the same sizes that fit forward may not.
    expect(call(0, 0, 0, 2, 2, 3, 1)).toMatch(/^RangeError: frozenMatmul: y range/); // y [2, 3] in 4
    expect(call(0, 0, 0, 4, 2, 1, 1)).toMatch(/^RangeError: frozenMatmul: x range/); // x [4, 2] in 6
    expect(call(0, 0, 0, -1, 2, 3, 0)).toMatch(/^RangeError: frozenMatmul: m, n, k/);
    expect(call(0, 0, 0, 2 ** 31, 2, 3, 0)).toMatch(/^RangeError: frozenMatmul: m, n, k/);
    expect(call(0, 0, 0, 2 ** 20, 2 ** 20, 2 ** 20, 0)).toMatch(/^RangeError: frozenMatmul: x range/); // products that overflow 32 bits
    // One heap for everything, as on the wasm backend: disjoint ranges are fine, overlapping are not.
    const heap = new Float32Array(32);
    const inHeap = (yo: number) => thrown(() => k.frozenMatmul(heap, 0, heap, 6, 0, heap, yo, 2, 2, 3, 0));
    expect(inHeap(12)).toBe('nothing');
    expect(inHeap(5)).toMatch(/^RangeError: frozenMatmul: y overlaps x or w/);
    expect(inHeap(9)).toMatch(/^RangeError: frozenMatmul: y overlaps x or w/);
    expect(thrown(() => k.widenRows(heap, 0, 4, at(1), heap, 6))).toMatch(/^RangeError: widenRows: dst overlaps/);
    k.widenRows(heap, 0, 4, at(1), heap, 8);
  });
});

/** Round-to-nearest-even bfloat16 bits of a float32 value (exact ones here). */
function toBf16(v: number): number {
  const bits = new Uint32Array(Float32Array.of(v).buffer)[0];
  return (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
}

/** float16 bits of a small exactly representable value (normal range only; enough for tests). */
function toF16(v: number): number {
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === 0) return sign;
  const exponent = floor(Math.log2(a));
  const mantissa = Math.round((a / 2 ** exponent - 1) * 1024);
  return sign | ((exponent + 15) << 10) | mantissa;
}
