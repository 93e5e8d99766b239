import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * What the worker reads and writes in a run folder. The runner owns the folder's format
 * (packages/runner/src/run-folder.ts); these are its two stable facts: a run is complete when
 * status.json says so and results.json exists, and status.json's `state` is what `bayes-peft
 * status` reports.
 */
export const WORKER_LOG = 'worker.log';

export async function runComplete(dir: string): Promise<boolean> {
  try {
    const status = JSON.parse(await fs.readFile(path.join(dir, 'status.json'), 'utf8')) as { state?: string };
    await fs.access(path.join(dir, 'results.json'));
    return status.state === 'complete';
  } catch {
    return false;
  }
}

/**
 * A job that failed for good leaves its run marked failed, so `bayes-peft status` reports it
 * from the folder like any other failure. The run itself usually wrote that already (with its
 * error); a run that died before it could (a setup error, a crash, a kill) gets it from here.
 */
export async function markRunFailed(dir: string, error: string, queue: Record<string, unknown>): Promise<void> {
  const file = path.join(dir, 'status.json');
  const current = await fs.readFile(file, 'utf8').then((t) => JSON.parse(t) as Record<string, unknown>, () => ({}) as Record<string, unknown>);
  const next = current.state === 'failed' ? { ...current, queue } : { state: 'failed', updated: new Date().toISOString(), error, queue };
  // Written aside and renamed over, as the runner writes it: a reader never sees half a file.
  const tmp = `${file}.${randomUUID()}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`);
  await fs.rename(tmp, file);
}

/** The text a log file gained from `offset` on (one attempt's output), at most its last `maxBytes`. */
export async function readLogFrom(file: string, offset: number, maxBytes = 256 * 1024): Promise<string> {
  const handle = await fs.open(file, 'r').catch(() => null);
  if (!handle) return '';
  try {
    const { size } = await handle.stat();
    const start = Math.max(offset, size - maxBytes);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    await handle.read(buffer, 0, buffer.length, start);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

/** The line that says why a run failed: the CLI's last `error:` line, else the last line printed. */
export function failureLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const error = [...lines].reverse().find((l) => l.startsWith('error:'));
  return (error ?? lines[lines.length - 1] ?? '(no output)').slice(0, 500);
}
