#!/usr/bin/env node
// Type-checks the workspace and writes its declarations: one `tsc -b` over the project references
// of the root tsconfig.json (every package), plus examples/wrapper-template (a scaffold's own
// tsconfig, not a composite project). --emitDeclarationOnly: the JavaScript is `pnpm build`'s
// (swc, tooling/build/build.mjs); tsc writes .d.ts, .d.ts.map and its .tsbuildinfo into each dist/.
//
//   node tooling/build/typecheck.mjs [tsc -b flags, e.g. --verbose --force]      (pnpm typecheck; CI runs it)
//
// A package whose tsconfig.json the root tsconfig.json does not reference is an error here, so a
// new package cannot fall out of the check unnoticed.
//
// Then the tests: the packages' builds leave them out (dist/ holds no tests), and jest's swc
// strips types without checking them, so tsconfig.tests.json checks every *.test.ts and
// *.test-support.ts in one program against the declarations just written.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const ROOT = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..', '..');
const GROUPS = ['packages', 'plugins', 'tooling'];
const STANDALONE = ['examples/wrapper-template/tsconfig.json'];
const t0 = Date.now();

const rootConfig = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8'));
const referenced = new Set((rootConfig.references ?? []).map((r) => path.resolve(ROOT, r.path)));
const missing = [];
for (const group of GROUPS) {
  const base = path.join(ROOT, group);
  if (!fs.existsSync(base)) continue;
  for (const name of fs.readdirSync(base)) {
    const dir = path.join(base, name);
    if (fs.existsSync(path.join(dir, 'tsconfig.json')) && !referenced.has(dir)) missing.push(path.relative(ROOT, dir));
  }
}
if (missing.length) {
  process.stderr.write(`typecheck: tsconfig.json (root) does not reference ${missing.join(', ')}: add { "path": "./<dir>" } to its references\n`);
  process.exit(1);
}

const tsc = createRequire(path.join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
const args = [tsc, '-b', '--emitDeclarationOnly', 'tsconfig.json', ...STANDALONE, ...process.argv.slice(2)];
const res = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
if (res.status !== 0) {
  process.stderr.write(`typecheck: tsc -b failed (${res.status ?? res.signal})\n`);
  process.exit(res.status || 1);
}
const t1 = Date.now();
const tests = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.tests.json'], { cwd: ROOT, stdio: 'inherit' });
if (tests.status !== 0) {
  process.stderr.write(`typecheck: the tests do not type-check (tsc -p tsconfig.tests.json: ${tests.status ?? tests.signal})\n`);
  process.exit(tests.status || 1);
}
process.stdout.write(
  `typecheck: ${referenced.size + STANDALONE.length} projects, no errors, declarations written (${((t1 - t0) / 1000).toFixed(1)} s); tests type-check (${((Date.now() - t1) / 1000).toFixed(1)} s)\n`,
);
