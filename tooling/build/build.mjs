#!/usr/bin/env node
// The run-time build: every workspace package's TypeScript (src/**/*.ts without tests, the layout
// tooling/new-package.sh lays out: rootDir src, outDir dist) compiled to CommonJS in its dist/ by
// swc, in this one process, with source maps. swc's settings are jest's (tooling/jest-preset), so
// the JavaScript that runs is compiled as the tests compile it (legacy decorators with metadata
// for tsyringe), and a dynamic import() stays one, as tsc emits it (ESM-only dependencies).
//
//   node tooling/build/build.mjs [--quiet]      (pnpm build; pnpm quickstart runs it first)
//
// Types are not checked here and no .d.ts is written: `pnpm typecheck` (tsc -b over the project
// references, tsconfig.json at the root) does both, and writes the declarations packages publish.
// Every file is compiled on every run (about half a second for the workspace); an output is
// rewritten only when its text changes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const ROOT = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..', '..');
const GROUPS = ['packages', 'plugins', 'tooling'];
const EXTRA = ['examples/wrapper-template'];
const QUIET = process.argv.includes('--quiet');
const t0 = process.hrtime.bigint();

const swc = createRequire(path.join(ROOT, 'package.json'))('@swc/core');

const SWC_OPTIONS = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs', ignoreDynamic: true },
  sourceMaps: true,
  swcrc: false,
  configFile: false,
};

/** Workspace package folders that have a src/ to compile. */
function packageDirs() {
  const dirs = [];
  for (const group of GROUPS) {
    const base = path.join(ROOT, group);
    if (!fs.existsSync(base)) continue;
    for (const name of fs.readdirSync(base).sort()) dirs.push(path.join(base, name));
  }
  for (const extra of EXTRA) dirs.push(path.join(ROOT, extra));
  return dirs.filter((d) => fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'src')));
}

/**
 * What each package's tsconfig.json compiles: src/**\/*.ts, not tests (*.test.ts, their helpers
 * *.test-support.ts, anything under __tests__), not declarations. The tsconfig "exclude" lists say
 * the same.
 */
function sources(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== '__tests__' && e.name !== 'node_modules') sources(p, out);
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.test-support.ts') && !e.name.endsWith('.d.ts')) {
      out.push(p);
    }
  }
  return out;
}

/** Writes `text` unless the file already holds it; atomically (a concurrent reader never sees half a file). */
async function writeIfChanged(file, text) {
  try {
    if ((await fs.promises.readFile(file, 'utf8')) === text) return false;
  } catch {
    // not there yet
  }
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.promises.writeFile(tmp, text);
  await fs.promises.rename(tmp, file);
  return true;
}

async function compile(pkgDir, file) {
  const rel = path.relative(path.join(pkgDir, 'src'), file);
  const outJs = path.join(pkgDir, 'dist', rel.replace(/\.ts$/, '.js'));
  const outMap = `${outJs}.map`;
  const code = await fs.promises.readFile(file, 'utf8');
  const result = await swc.transform(code, {
    ...SWC_OPTIONS,
    filename: file,
    // As tsc writes them: the map names the source relative to the output's folder.
    sourceFileName: path.relative(path.dirname(outJs), file).split(path.sep).join('/'),
  });
  const map = JSON.parse(result.map);
  map.file = path.basename(outJs);
  delete map.sourcesContent;
  await fs.promises.mkdir(path.dirname(outJs), { recursive: true });
  const wroteJs = await writeIfChanged(outJs, `${result.code}\n//# sourceMappingURL=${path.basename(outMap)}\n`);
  const wroteMap = await writeIfChanged(outMap, JSON.stringify(map));
  return wroteJs || wroteMap;
}

const jobs = [];
const pkgs = packageDirs();
for (const dir of pkgs) for (const file of sources(path.join(dir, 'src'))) jobs.push([dir, file]);

let changed = 0;
const failures = [];
// A few files in flight at a time: swc compiles on its own threads.
const queue = jobs.slice();
async function worker() {
  for (let job = queue.shift(); job; job = queue.shift()) {
    try {
      if (await compile(...job)) changed += 1;
    } catch (e) {
      failures.push(`${path.relative(ROOT, job[1])}: ${e && e.message ? e.message : e}`);
    }
  }
}
await Promise.all(Array.from({ length: 8 }, worker));

if (failures.length) {
  for (const f of failures) process.stderr.write(`build: ${f}\n`);
  process.stderr.write(`build: ${failures.length} file(s) failed\n`);
  process.exit(1);
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
if (!QUIET) {
  process.stdout.write(
    `build: ${jobs.length} files compiled (swc; ${changed} changed) in ${pkgs.length} packages, ${(ms / 1000).toFixed(2)} s; types: pnpm typecheck\n`,
  );
}
