#!/usr/bin/env node
// Publishing without a registry: lint every publishable package's manifest, `pnpm pack` the CLI,
// everything it needs at run time, the testkit and the scaffolded wrapper (examples/wrapper-template),
// install the tarballs into a scratch project outside the workspace, and run a spec there that
// names the wrapper by its npm package name, through to a results.json. Then the packed CLI
// scaffolds a new wrapper out there, which installs from the tarballs, builds and passes its tests.
//
//   node tooling/publish-check/run.mjs [--keep]      (pnpm publish-check)
//
// Third-party dependencies come from pnpm's store (the workspace's install filled it) and the
// registry only for what the store lacks. Exits 1 with every problem listed.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..', '..');
const WRAPPER_DIR = path.join(ROOT, 'examples', 'wrapper-template');
const KEEP = process.argv.includes('--keep');
const t0 = Date.now();

function log(line) {
  process.stdout.write(`publish-check: ${line}\n`);
}

function run(cmd, args, options = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...options });
}

function fail(problems) {
  for (const p of problems) process.stderr.write(`publish-check: FAIL ${p}\n`);
  process.exit(1);
}

/** Every workspace package: name -> { dir, manifest }. */
function workspacePackages() {
  const listed = JSON.parse(run('pnpm', ['ls', '-r', '--depth', '-1', '--json'], { cwd: ROOT }));
  const out = new Map();
  for (const p of listed) {
    if (p.path === ROOT) continue;
    out.set(p.name, { dir: p.path, manifest: JSON.parse(fs.readFileSync(path.join(p.path, 'package.json'), 'utf8')) });
  }
  return out;
}

/** What a publishable package must carry; the scaffolded example is checked as if published. */
function lint(name, { dir, manifest: m }, packages) {
  const problems = [];
  const where = path.relative(ROOT, dir);
  if (!/^\d+\.\d+\.\d+/.test(m.version ?? '')) problems.push(`${where}: version '${m.version}'`);
  if (!m.types || !m.main) problems.push(`${where}: main and types are required`);
  if (!m.exports?.['.']?.types || !m.exports?.['.']?.default) problems.push(`${where}: exports['.'] needs types and default`);
  if (!Array.isArray(m.files) || !m.files.includes('dist')) problems.push(`${where}: files must list dist`);
  if (!fs.existsSync(path.join(dir, 'README.md'))) problems.push(`${where}: README.md is missing`);
  // npm ships a README whatever `files` says, but a CHANGELOG only when listed.
  if (!fs.existsSync(path.join(dir, 'CHANGELOG.md')) || !m.files?.includes('CHANGELOG.md')) problems.push(`${where}: CHANGELOG.md must exist and be listed in files`);
  if (m.main && !fs.existsSync(path.join(dir, m.main))) problems.push(`${where}: ${m.main} is missing (not built?)`);
  if (name.startsWith('@bayes-peft/') && m.publishConfig?.access !== 'public') problems.push(`${where}: publishConfig.access must be public (a scoped package is private on npm by default)`);
  // Anything a published package needs at run time must be published too.
  for (const [dep, spec] of Object.entries({ ...m.dependencies, ...m.peerDependencies })) {
    const target = packages.get(dep);
    if (target?.manifest.private) problems.push(`${where}: depends on the private ${dep} at run time (make it a devDependency)`);
    if (String(spec).startsWith('workspace:') && !target) problems.push(`${where}: ${dep}@${spec} is not a workspace package`);
  }
  return problems;
}

/** The workspace packages `names` need at run time, themselves included. */
function runtimeClosure(names, packages) {
  const seen = new Set();
  const visit = (n) => {
    if (seen.has(n) || !packages.has(n)) return;
    seen.add(n);
    for (const dep of Object.keys(packages.get(n).manifest.dependencies ?? {})) visit(dep);
  };
  names.forEach(visit);
  return [...seen].sort();
}

/** `file:` specs of the tarballs, relative to the project that installs them. */
function fileSpecs(tgzs, projectDir) {
  return Object.fromEntries(Object.entries(tgzs).map(([n, tgz]) => [n, `file:${path.relative(projectDir, tgz)}`]));
}

/**
 * pnpm settings of a project installing tarballs: every bayes-peft name overridden to its
 * tarball, and install scripts allowed by exact name@spec for the packages that have one.
 */
function writeInstallSettings(projectDir, files, builds) {
  const overrides = Object.entries(files).map(([n, f]) => `  "${n}": "${f}"\n`).join('');
  const allowed = builds.map((n) => `  "${files[n] ? `${n}@${files[n]}` : n}": true\n`).join('');
  fs.writeFileSync(
    path.join(projectDir, 'pnpm-workspace.yaml'),
    `overrides:\n${overrides}allowBuilds:\n${allowed}  "@tensorflow/tfjs-node": false\n  "@tensorflow/tfjs-node-gpu": false\n  onnxruntime-node: false\n  protobufjs: false\n  core-js: false\n`,
  );
}

/** Third-party packages from pnpm's store where it has them; no lockfile to freeze (CI=true would ask for one). */
function install(projectDir) {
  run('pnpm', ['install', '--prefer-offline', '--no-frozen-lockfile', '--reporter=append-only'], { cwd: projectDir, stdio: ['ignore', 'ignore', 'inherit'] });
}

const packages = workspacePackages();
const wrapperName = JSON.parse(fs.readFileSync(path.join(WRAPPER_DIR, 'package.json'), 'utf8')).name;

log('building the workspace (turbo; cached when nothing changed)');
run('pnpm', ['run', 'build:quiet'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });

const publishable = [...packages].filter(([, p]) => !p.manifest.private).map(([n]) => n);
const problems = [];
for (const name of [...publishable, wrapperName]) problems.push(...lint(name, packages.get(name), packages));
// The CLI and the example wrapper for the run; the testkit for a wrapper scaffolded out here.
const toPack = runtimeClosure(['@bayes-peft/cli', wrapperName, '@bayes-peft/plugin-testkit'], packages);
for (const n of toPack) if (packages.get(n).manifest.private && n !== wrapperName) problems.push(`${n} is private but needed at run time by the CLI or the wrapper`);
if (problems.length) fail(problems);
log(`${publishable.length} publishable packages have name, version, main/types/exports, files, README and public runtime dependencies`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bayes-peft-publish-check-'));
const tarballs = path.join(work, 'tarballs');
const scratch = path.join(work, 'scratch');
fs.mkdirSync(tarballs);
fs.mkdirSync(scratch);
try {
  const tgzs = {};
  const builds = [];
  for (const name of toPack) {
    const out = run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: packages.get(name).dir }).trim().split('\n').pop();
    const tgz = path.isAbsolute(out) ? out : path.join(tarballs, path.basename(out));
    if (!fs.existsSync(tgz)) fail([`pnpm pack in ${packages.get(name).dir} did not leave ${tgz}`]);
    const packed = JSON.parse(run('tar', ['-xzOf', tgz, 'package/package.json']));
    const leftover = Object.entries({ ...packed.dependencies, ...packed.devDependencies }).filter(([, s]) => String(s).startsWith('workspace:'));
    if (leftover.length) fail([`${name}: the tarball still says ${leftover.map(([d, s]) => `${d}@${s}`).join(', ')}`]);
    tgzs[name] = tgz;
    if (['preinstall', 'install', 'postinstall'].some((k) => packed.scripts?.[k])) builds.push(name);
  }
  log(`packed ${toPack.length} tarballs: ${toPack.join(', ')}`);

  // The scratch project: the CLI and the wrapper, every bayes-peft package from its tarball
  // (overrides, so no @bayes-peft name is ever looked up in a registry).
  const files = fileSpecs(tgzs, scratch);
  fs.writeFileSync(
    path.join(scratch, 'package.json'),
    `${JSON.stringify({ name: 'publish-check-scratch', private: true, dependencies: { '@bayes-peft/cli': files['@bayes-peft/cli'], [wrapperName]: files[wrapperName] } }, null, 2)}\n`,
  );
  writeInstallSettings(scratch, files, builds);
  log(`installing into ${scratch} (outside the workspace)`);
  install(scratch);
  const cliDir = fs.realpathSync(path.join(scratch, 'node_modules', '@bayes-peft', 'cli'));
  if (!cliDir.startsWith(fs.realpathSync(scratch))) fail([`the scratch project's CLI resolves to ${cliDir}, outside it`]);

  // The tiny seeded Llama (data, not code) from the workspace's fixture maker: offline.
  const model = path.join(scratch, 'models', 'tiny-llama');
  run('node', [path.join(ROOT, 'tooling', 'fixtures', 'bin', 'bayes-peft-fixtures.js'), 'make-tiny-llama', '--out', model], { stdio: ['ignore', 'ignore', 'inherit'] });
  fs.writeFileSync(
    path.join(scratch, 'spec.yaml'),
    [
      'name: publish-check',
      'seed: 1',
      'output: runs',
      'model: { path: ./models/tiny-llama }',
      'dataset: { plugin: toy, options: { trainSize: 32, testSize: 16 } }',
      `wrapper: { plugin: ${wrapperName}, options: { labelSmoothing: 0.1 } }`,
      'lora: { r: 4, alpha: 8, targets: [q_proj, v_proj, lm_head] }',
      'train: { steps: 4, batchSize: 8, lr: 0.01, maxSeqLen: 48 }',
      'eval: { batchSize: 16 }',
      '',
    ].join('\n'),
  );
  const bin = path.join(scratch, 'node_modules', '.bin', 'bayes-peft');
  const env = { ...process.env, NODE_PATH: '' };
  const plugins = run(bin, ['plugins'], { cwd: scratch, env });
  log(`bayes-peft plugins (scratch):\n${plugins.trimEnd().replace(/^/gm, '  ')}`);
  const out = run(bin, ['experiment', 'spec.yaml', '--no-progress'], { cwd: scratch, env, stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(`${out.trimEnd().replace(/^/gm, '  ')}\n`);

  const runs = path.join(scratch, 'runs', 'publish-check');
  const runDirs = fs.existsSync(runs) ? fs.readdirSync(runs) : [];
  const resultsFile = runDirs.map((d) => path.join(runs, d, 'results.json')).find((f) => fs.existsSync(f));
  if (!resultsFile) fail([`no results.json under ${runs} (found: ${runDirs.join(', ') || 'nothing'})`]);
  const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  const bad = ['acc', 'ece', 'nll', 'brier'].filter((k) => !Number.isFinite(results.metrics?.[k]));
  if (results.wrapper !== 'template' || bad.length) fail([`${resultsFile}: wrapper '${results.wrapper}', non-finite ${bad.join(', ') || '-'}`]);
  log(`${path.relative(scratch, resultsFile)}: wrapper ${results.wrapper} (${wrapperName}), acc ${results.metrics.acc.toFixed(4)}, nll ${results.metrics.nll.toFixed(4)}`);

  // A third party's first hour: the packed CLI scaffolds a wrapper outside any workspace
  // (^versions), which installs from the tarballs, builds with tsc and passes its own tests,
  // the conformance suite of the packed testkit included.
  const demo = path.join(work, 'bayes-peft-wrapper-demo');
  run(bin, ['new', 'wrapper', 'demo', '--dir', demo], { cwd: work, env });
  const demoPkg = JSON.parse(fs.readFileSync(path.join(demo, 'package.json'), 'utf8'));
  if (!String(demoPkg.dependencies['@bayes-peft/core']).startsWith('^')) fail([`a scaffold outside the workspace depends on @bayes-peft/core@${demoPkg.dependencies['@bayes-peft/core']}`]);
  writeInstallSettings(demo, fileSpecs(tgzs, demo), [...builds, '@swc/core']);
  log(`scaffolded ${demoPkg.name} with the packed CLI; installing, building, testing`);
  install(demo);
  run('pnpm', ['run', 'build'], { cwd: demo, env, stdio: ['ignore', 'ignore', 'inherit'] });
  // jest reports on stderr.
  const tests = spawnSync('pnpm', ['test'], { cwd: demo, env: { ...env, CI: 'true' }, encoding: 'utf8' });
  const report = `${tests.stdout}${tests.stderr}`;
  if (tests.status !== 0) fail([`the scaffolded wrapper's tests failed:\n${report}`]);
  const summary = report.match(/^Tests:.*$/m)?.[0];
  if (!summary || !/\d+ passed/.test(summary) || /failed/.test(summary)) fail([`no passing jest summary from the scaffolded wrapper:\n${report}`]);
  log(`scaffolded wrapper's jest: ${summary.replace(/\s+/g, ' ')}`);
  log(`ok in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
} finally {
  if (KEEP) log(`kept ${work}`);
  else fs.rmSync(work, { recursive: true, force: true });
}
