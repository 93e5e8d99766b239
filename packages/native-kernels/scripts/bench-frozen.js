#!/usr/bin/env node
// Times frozenMatmul at Llama-3.2-1B's MLP shapes (64 tokens; gate/up: 8192 x 2048, down:
// 2048 x 8192), float32 W against bfloat16 / float16 W, on 1 and 2 OpenBLAS threads, so a
// change to the widening or the tile size shows what it costs. Not part of the tests:
//   node scripts/bench-frozen.js [seconds per case, default 1]
// 2-thread figures need both cores idle: OpenBLAS' threads spin-wait, so any other busy process
// halves them (compare the best run with the median).
'use strict';
const path = require('node:path');
const addon = require(path.resolve(__dirname, '..', 'build', 'Release', 'native_kernels.node'));

const seconds = Number(process.argv[2] ?? 1);
const shapes = [
  { m: 64, n: 8192, k: 2048 },
  { m: 64, n: 2048, k: 8192 },
];
const dtypes = [
  ['f32', 0],
  ['bf16', 1],
  ['f16', 2],
];

// Random bits in a sane range; the values do not change the timing, only NaN/denormal would.
function weights(dtype, count) {
  const f = new Float32Array(count);
  for (let i = 0; i < count; i++) f[i] = Math.random() - 0.5;
  if (dtype === 0) return f;
  const bits = new Uint32Array(f.buffer);
  const w = new Uint16Array(count);
  if (dtype === 1) for (let i = 0; i < count; i++) w[i] = bits[i] >>> 16;
  else for (let i = 0; i < count; i++) w[i] = 0x3800 | (bits[i] & 0x83ff); // +-[0.5, 1) in float16
  return w;
}

/**
 * Seconds per call of each function, run round-robin so that other work on the machine (other
 * builds, tests) hits all of them alike; the best run is reported, the one least disturbed,
 * with the median beside it.
 */
function timeAll(fns) {
  for (const fn of fns) for (let i = 0; i < 2; i++) fn(); // page in the weights and the scratch tile
  const runs = fns.map(() => []);
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  do {
    fns.forEach((fn, i) => {
      const t0 = process.hrtime.bigint();
      fn();
      runs[i].push(Number(process.hrtime.bigint() - t0) / 1e9);
    });
  } while (process.hrtime.bigint() < end || runs[0].length < 5);
  return runs.map((r) => {
    r.sort((a, b) => a - b);
    return { best: r[0], median: r[Math.floor(r.length / 2)] };
  });
}

const rows = [];
for (const threads of [1, 2]) {
  addon.setThreads(threads);
  for (const { m, n, k } of shapes) {
    const flops = 2 * m * n * k;
    for (const mode of [0, 1]) {
      const x = Float32Array.from({ length: m * (mode === 0 ? k : n) }, () => Math.random() - 0.5);
      const y = new Float32Array(m * (mode === 0 ? n : k));
      const fns = dtypes.map(([, dtype]) => {
        const w = weights(dtype, n * k);
        return () => addon.frozenMatmul(x, 0, w, 0, dtype, y, 0, m, n, k, mode);
      });
      const times = timeAll(fns);
      const row = { threads, shape: `${m}x${n}x${k}`, mode };
      const gflops = (t) => +(flops / t / 1e9).toFixed(1);
      dtypes.forEach(([name], i) => {
        row[name] = gflops(times[i].best);
        row[`${name} med`] = gflops(times[i].median);
      });
      row['bf16/f32'] = +(row.bf16 / row.f32).toFixed(2);
      rows.push(row);
    }
  }
}
console.log(`${addon.info().blas}; widening: ${addon.info().widening}`);
console.log('GFLOP/s: best run, and median (med), of calls interleaved across dtypes');
console.table(rows);
