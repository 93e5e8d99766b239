#!/usr/bin/env node
// Install script: builds the native kernels with node-gyp against the machine's OpenBLAS.
//
// It never fails the install. A machine without a compiler, Node's headers or OpenBLAS gets no
// addon, and build/status.json records why; @bayes-peft/tensor then runs plain wasm and says so
// in one line. Nothing is downloaded: node-gyp is pointed at the headers of the running Node
// (official tarballs and Debian's nodejs both ship them under <prefix>/include/node), because
// its default would fetch them from the network.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const buildDir = path.join(root, 'build');
const statusFile = path.join(buildDir, 'status.json');
const logFile = path.join(buildDir, 'install.log');

function finish(ok, reason) {
  fs.mkdirSync(buildDir, { recursive: true });
  fs.writeFileSync(statusFile, JSON.stringify({ ok, reason, node: process.version, date: new Date().toISOString() }, null, 2) + '\n');
  process.stdout.write(`@bayes-peft/native-kernels: ${ok ? 'built' : `not built (${reason}); TensorFlow.js runs plain wasm`}\n`);
  process.exit(0);
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Where cblas.h is: Debian's multiarch folder first (libopenblas-dev puts it there). */
function findCblas() {
  const dirs = [];
  const triplet = spawnSync('cc', ['-print-multiarch'], { encoding: 'utf8' });
  if (triplet.status === 0 && triplet.stdout.trim()) dirs.push(path.join('/usr/include', triplet.stdout.trim()));
  dirs.push('/usr/include/openblas', '/usr/include', '/usr/local/include', '/opt/homebrew/opt/openblas/include', '/usr/local/opt/openblas/include');
  if (process.env.CBLAS_INCLUDE_DIR) dirs.unshift(process.env.CBLAS_INCLUDE_DIR);
  return dirs.find((d) => fs.existsSync(path.join(d, 'cblas.h'))) ?? null;
}

/** node-gyp: the one pnpm or npm runs install scripts with, else npm's bundled copy beside Node. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.resolve(process.execPath, '../../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    path.resolve(process.execPath, '../../lib/node_modules/pnpm/dist/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  return candidates.find((c) => c && fs.existsSync(c)) ?? null;
}

if (process.env.BAYES_PEFT_NATIVE_BUILD === '0') finish(false, 'BAYES_PEFT_NATIVE_BUILD=0 at install');
if (!has('cc') || !has('make')) finish(false, 'no C compiler or make (Debian: apt-get install build-essential)');
const nodeDir = path.resolve(process.execPath, '../..');
if (!fs.existsSync(path.join(nodeDir, 'include', 'node', 'node_api.h'))) finish(false, `no Node headers under ${nodeDir}/include/node`);
const cblas = findCblas();
if (!cblas) finish(false, 'no cblas.h (Debian: apt-get install libopenblas-dev)');
const gyp = findNodeGyp();
if (!gyp) finish(false, 'node-gyp not found');

fs.mkdirSync(buildDir, { recursive: true });
const run = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodeDir}`, '--', `-Dcblas_include=${cblas}`], {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, npm_config_nodedir: nodeDir },
});
// node-gyp rebuild clears build/ first, so the log is written after it.
fs.mkdirSync(buildDir, { recursive: true });
fs.writeFileSync(logFile, `${run.stdout ?? ''}${run.stderr ?? ''}`);
if (run.status !== 0) finish(false, `node-gyp failed (exit ${run.status}), see ${path.relative(root, logFile)}`);

// A build that links but cannot load (e.g. libopenblas.so missing at run time) is no build.
try {
  const addon = require(path.join(buildDir, 'Release', 'native_kernels.node'));
  const a = new Float32Array([1, 2, 3, 4]);
  const c = new Float32Array(4);
  addon.matmul(a, new Int32Array([0]), a, new Int32Array([0]), c, 0, 2, 2, 2, false, false);
  if (c[0] !== 7 || c[3] !== 22) throw new Error(`2x2 self-test gave [${c}]`);
} catch (e) {
  finish(false, `built but does not load (${String(e && e.message ? e.message : e).split('\n')[0]})`);
}
finish(true, `OpenBLAS, cblas.h from ${cblas}`);
