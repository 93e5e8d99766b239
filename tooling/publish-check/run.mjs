#!/usr/bin/env node
// Publishing without a registry: lint every publishable package's manifest, `pnpm pack` the CLI,
// everything it needs at run time, the testkit and the scaffolded wrapper (examples/wrapper-template),
// install the tarballs as a new user would, with plain `npm i` (no flags, no environment
// variables), into a scratch project outside the workspace, list the plugins and run a spec
// there that names the wrapper by its npm package name, through to a results.json, checking the
// start-up lines that say which engines run. Then the packed CLI scaffolds a new wrapper out
// there, which installs from the tarballs, builds and passes its tests.
//
//   node tooling/publish-check/run.mjs [--keep]      (pnpm publish-check)
//
// Third-party dependencies of the npm install come from the registry (npm's cache); the
// scaffold's from pnpm's store (the workspace's install filled it). Exits 1 with every problem
// listed.
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
  if (m.types && !fs.existsSync(path.join(dir, m.types))) problems.push(`${where}: ${m.types} is missing (declarations come from pnpm typecheck)`);
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

/**
 * The environment of a new user's shell: this one without what pnpm, npm or the project set for
 * scripts (npm_config_*, npm_package_*, pnpm's), nor the variables that steer installs or runs.
 */
function newUserEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|ONNXRUNTIME_NODE_INSTALL|BAYES_PEFT_|INIT_CWD$)/i.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/** `npm i [specs]` in `dir`; its output (npm prints warnings and failures of optional packages on stderr). */
function npmInstall(dir, specs, env) {
  const r = spawnSync('npm', ['i', ...specs], { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) fail([`npm i ${specs.join(' ')} failed in ${dir} (exit ${r.status}):\n${r.stdout}${r.stderr}`]);
  return `${r.stdout}${r.stderr}`;
}

/**
 * Runs a spec with the packed CLI; prints its table and the start-up lines that say which engines
 * run (tensor backend, fast path, evaluation engine), which must be there. Returns the last run's
 * evaluation engine and why.
 */
function experiment(bin, spec, cwd, env, extra = []) {
  const r = spawnSync(bin, ['experiment', spec, '--no-progress', ...extra], { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) fail([`bayes-peft experiment ${spec} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`]);
  const lines = r.stderr.split('\n');
  const backend = lines.find((l) => /^backend: /.test(l));
  const fast = lines.find((l) => /^fast path: /.test(l));
  const engines = lines.map((l) => /^\s*evaluation engine: (\w+) \((.*)\)$/.exec(l)).filter(Boolean);
  if (!backend || !fast || !engines.length) fail([`bayes-peft experiment ${spec} did not print its engine lines:\n${r.stderr}`]);
  log(`bayes-peft experiment ${[spec, ...extra].join(' ')}:`);
  for (const l of [backend, fast, ...engines.map((m) => m[0].trim())]) process.stdout.write(`  ${l}\n`);
  process.stdout.write(`${r.stdout.trimEnd().replace(/^/gm, '  ')}\n`);
  const last = engines[engines.length - 1];
  return { engine: last[1], why: last[2] };
}

const packages = workspacePackages();
const wrapperName = JSON.parse(fs.readFileSync(path.join(WRAPPER_DIR, 'package.json'), 'utf8')).name;

// The JavaScript from swc (pnpm build), the declarations a package ships from tsc -b (pnpm typecheck).
log('building the workspace (swc) and writing its declarations (tsc -b; incremental)');
run('pnpm', ['run', 'build:quiet'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
run('pnpm', ['run', 'typecheck'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });

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

  // The scratch project, as a new user makes it: `npm init -y && npm i <the packed tarballs>`
  // (the CLI, the wrapper and every bayes-peft package they need), plain npm, none of the
  // environment this script runs in that could steer it (npm_config_*, ONNXRUNTIME_NODE_INSTALL,
  // BAYES_PEFT_*). Optional engines whose install scripts fail here are left out by npm.
  const userEnv = newUserEnv();
  run('npm', ['init', '-y'], { cwd: scratch, env: userEnv });
  const scratchTgzs = runtimeClosure(['@bayes-peft/cli', wrapperName], packages).map((n) => path.relative(scratch, tgzs[n]));
  log(`npm i ${scratchTgzs.length} tarballs into ${scratch} (outside the workspace; plain npm ${run('npm', ['--version'], { env: userEnv }).trim()}, no flags)`);
  const npmOut = npmInstall(scratch, scratchTgzs, userEnv);
  log(`npm i: ${npmOut.split('\n').filter((l) => /^(added|up to date|changed)/.test(l)).join('; ') || 'done'}`);
  const cliDir = fs.realpathSync(path.join(scratch, 'node_modules', '@bayes-peft', 'cli'));
  if (!cliDir.startsWith(fs.realpathSync(scratch))) fail([`the scratch project's CLI resolves to ${cliDir}, outside it`]);
  const ortInstalled = () => fs.existsSync(path.join(scratch, 'node_modules', 'onnxruntime-node', 'package.json'));
  log(`onnxruntime-node ${ortInstalled() ? 'installed' : 'left out by npm (its install script failed: no CUDA download here)'}`);

  // The tiny seeded Llama (data, not code) from the workspace's fixture maker: offline.
  const model = path.join(scratch, 'models', 'tiny-llama');
  run('node', [path.join(ROOT, 'tooling', 'fixtures', 'bin', 'bayes-peft-fixtures.js'), 'make-tiny-llama', '--out', model], { stdio: ['ignore', 'ignore', 'inherit'] });
  const specLines = (name, wrapper) => [
    `name: ${name}`,
    'seed: 1',
    'output: runs',
    'model: { path: ./models/tiny-llama }',
    'dataset: { plugin: toy, options: { trainSize: 32, testSize: 16 } }',
    `wrapper: ${wrapper}`,
    'lora: { r: 4, alpha: 8, targets: [q_proj, v_proj, lm_head] }',
    'train: { steps: 4, batchSize: 8, lr: 0.01, maxSeqLen: 48 }',
    'eval: { batchSize: 16 }',
    '',
  ];
  // The scaffolded wrapper (TensorFlow.js only) and mle (which evaluates on onnxruntime when it loads).
  fs.writeFileSync(path.join(scratch, 'spec.yaml'), specLines('publish-check', `{ plugin: ${wrapperName}, options: { labelSmoothing: 0.1 } }`).join('\n'));
  fs.writeFileSync(path.join(scratch, 'engine.yaml'), specLines('publish-check-engine', 'mle').join('\n'));
  const env = { ...userEnv, NODE_PATH: '' };
  // `npx --no`: the local bin or an error, never a registry package that happens to be called so.
  const plugins = run('npx', ['--no', 'bayes-peft', 'plugins'], { cwd: scratch, env });
  // It lists the built-in plugins (a package named in a spec, like the wrapper, need not be listed).
  if (!/^wrapper\s+mle\b/m.test(plugins) || !/^dataset\s+toy\b/m.test(plugins)) fail([`npx bayes-peft plugins does not list the built-in mle and toy:\n${plugins}`]);
  log(`npx bayes-peft plugins (scratch):\n${plugins.trimEnd().replace(/^/gm, '  ')}`);
  const bin = path.join(scratch, 'node_modules', '.bin', 'bayes-peft');
  experiment(bin, 'spec.yaml', scratch, env);

  const runs = path.join(scratch, 'runs', 'publish-check');
  const runDirs = fs.existsSync(runs) ? fs.readdirSync(runs) : [];
  const resultsFile = runDirs.map((d) => path.join(runs, d, 'results.json')).find((f) => fs.existsSync(f));
  if (!resultsFile) fail([`no results.json under ${runs} (found: ${runDirs.join(', ') || 'nothing'})`]);
  const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  const bad = ['acc', 'ece', 'nll', 'brier'].filter((k) => !Number.isFinite(results.metrics?.[k]));
  if (results.wrapper !== 'template' || bad.length) fail([`${resultsFile}: wrapper '${results.wrapper}', non-finite ${bad.join(', ') || '-'}`]);
  log(`${path.relative(scratch, resultsFile)}: wrapper ${results.wrapper} (${wrapperName}), acc ${results.metrics.acc.toFixed(4)}, nll ${results.metrics.nll.toFixed(4)}`);

  // The evaluation engine: onnxruntime when npm kept onnxruntime-node, else TensorFlow.js with
  // one line saying why and what to do.
  let engine = experiment(bin, 'engine.yaml', scratch, env);
  if (ortInstalled() !== (engine.engine === 'onnxruntime')) fail([`onnxruntime-node is ${ortInstalled() ? '' : 'not '}installed but mle evaluated on ${engine.engine} (${engine.why})`]);
  if (!ortInstalled()) {
    if (!engine.why.includes('onnxruntime-node is not installed') || !engine.why.includes('ONNXRUNTIME_NODE_INSTALL=skip')) {
      fail([`the fallback line does not say why and what to do: evaluation engine: ${engine.engine} (${engine.why})`]);
    }
    // What that line advises, for the CPU build: one more plain install with the variable set.
    log('ONNXRUNTIME_NODE_INSTALL=skip npm i (the CPU build of onnxruntime-node, as the fallback line says)');
    npmInstall(scratch, [], { ...userEnv, ONNXRUNTIME_NODE_INSTALL: 'skip' });
    if (!ortInstalled()) fail(['ONNXRUNTIME_NODE_INSTALL=skip npm i did not install onnxruntime-node']);
    engine = experiment(bin, 'engine.yaml', scratch, env, ['--force']);
    if (engine.engine !== 'onnxruntime') fail([`after ONNXRUNTIME_NODE_INSTALL=skip npm i, mle evaluated on ${engine.engine} (${engine.why})`]);
  }

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
