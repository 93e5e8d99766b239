import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { findRunDirs, loadRuns } from '@bayes-peft/report';
import { RunFolder, runStatus } from '@bayes-peft/runner';

/** What the kill tests (kill-anywhere*.e2e.test.ts) share: the CLI as a child process to kill, a seeded draw, byte-for-byte folder reads. */

const BIN = path.resolve(__dirname, '..', 'bin', 'bayes-peft.js');

export interface Attempt {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly output: () => string;
  readonly running: () => boolean;
  kill(): void;
}

/** `bayes-peft experiment <spec>` as a child process; `crashAt` sets BAYES_PEFT_CRASH_AT (packages/env/src/crash-point.ts). */
export function experiment(specFile: string, crashAt?: string): Attempt {
  const env = { ...process.env, BAYES_PEFT_CRASH_AT: crashAt ?? '' };
  const child = spawn(process.execPath, [BIN, 'experiment', specFile, '--no-progress', '--no-report'], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { exited, output: () => output, running: () => child.exitCode === null && child.signalCode === null, kill: () => child.kill('SIGKILL') };
}

/** A small seeded generator (mulberry32): an integer in [lo, hi], the same on every machine for a seed. */
export function seeded(seed: number): (lo: number, hi: number) => number {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
}

/** Every file under `dir` (relative path to bytes), for a byte-for-byte comparison. */
export async function filesOf(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out[path.relative(dir, path.join(e.parentPath, e.name))] = await fs.readFile(path.join(e.parentPath, e.name));
  }
  return out;
}

/**
 * The killed run's folder against the uninterrupted one's: the same bytes in each of `files` and
 * in every adapter file, and the same file names (nothing of the killed attempts left behind).
 */
export async function expectSameRun(killed: string, whole: string, files: readonly string[]): Promise<void> {
  for (const file of files) {
    expect({ file, same: (await fs.readFile(path.join(killed, file))).equals(await fs.readFile(path.join(whole, file))) }).toEqual({ file, same: true });
  }
  const [a, b] = [await filesOf(path.join(whole, 'adapter')), await filesOf(path.join(killed, 'adapter'))];
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const file of Object.keys(a)) expect({ file, same: b[file].equals(a[file]) }).toEqual({ file, same: true });
  expect(Object.keys(await filesOf(killed)).sort()).toEqual(Object.keys(await filesOf(whole)).sort());
}

/** A killed run's folder must not look complete to any reader of run folders: experiment's skip, `bayes-peft status` and collect, the report. */
export async function expectNotComplete(run: string): Promise<void> {
  expect(await new RunFolder(run).isComplete()).toBe(false);
  expect((await runStatus(run)).state).toBe('interrupted');
  expect(await loadRuns(await findRunDirs(path.dirname(run)))).toEqual([]);
}
