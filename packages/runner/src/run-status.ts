import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { newestCheckpoint } from './checkpoint';
import { RUN_FILES, RunFolder } from './run-folder';
import { describeHolder, readRunLock, type RunLockOptions, type RunLockRecord } from './run-lock';

/** Where a run stands, read from its folder alone (no scheduler's accounting needed). */
export type RunStatusState = 'done' | 'running' | 'failed' | 'interrupted' | 'pending';

export const RUN_STATUS_STATES: readonly RunStatusState[] = ['done', 'running', 'failed', 'interrupted', 'pending'];

export interface RunStatus {
  readonly state: RunStatusState;
  /** failed / interrupted: the error status.json records (or why the run is taken to have stopped). */
  readonly error?: string;
  /** running: the live lock's holder. */
  readonly holder?: RunLockRecord;
  /** status.json's last update (ISO). */
  readonly updated?: string;
  /** The step of the last checkpoint (what a restart resumes from). */
  readonly checkpointStep?: number;
  /** running, failed, interrupted: the last training step metrics.jsonl records (how far the run got). */
  readonly step?: number;
}

/** The last training step a run folder's metrics.jsonl records; 0 before the first (a line being written is skipped). */
export async function lastTrainStep(dir: string): Promise<number> {
  const text = await fs.readFile(path.join(dir, RUN_FILES.metrics), 'utf8').catch(() => '');
  let last = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('{"phase":"train"')) continue;
    try {
      last = Math.max(last, (JSON.parse(line) as { step: number }).step);
    } catch {
      // the line being written
    }
  }
  return last;
}

/**
 * One run folder's state: `running` while a live run.lock is there (whatever status.json says),
 * `done` when results.json is there and status.json says complete, `failed` or `interrupted` as
 * status.json says, with its error. status.json saying `running` without a live lock means the
 * process died without a word (SIGKILL, a node failure): `interrupted`. Anything else: `pending`.
 */
export async function runStatus(dir: string, lockOptions: RunLockOptions = {}): Promise<RunStatus> {
  const folder = new RunFolder(dir);
  const lock = await readRunLock(dir, lockOptions);
  // What a restart resumes from, including a checkpoint a kill left beside adapter/ mid-swap.
  const checkpoint = (await newestCheckpoint(folder.adapterDir))?.info;
  const checkpointStep = checkpoint && checkpoint.step > 0 ? { checkpointStep: checkpoint.step } : {};
  if (!lock?.live && (await folder.isComplete())) return { state: 'done' };
  const logged = await lastTrainStep(dir);
  const step = logged > 0 ? { step: logged } : {};
  if (lock?.live) return { state: 'running', ...(lock.record ? { holder: lock.record } : {}), ...step, ...checkpointStep };
  const status = await fs.readFile(folder.file(RUN_FILES.status), 'utf8').then(
    (t) => JSON.parse(t) as { state?: string; error?: string; updated?: string },
    () => null,
  );
  const updated = typeof status?.updated === 'string' ? { updated: status.updated } : {};
  if (status?.state === 'failed' || status?.state === 'interrupted') {
    return { state: status.state, ...(status.error ? { error: status.error } : {}), ...updated, ...step, ...checkpointStep };
  }
  if (status?.state === 'running') {
    const stale = lock ? `; its lock (${describeHolder(lock.record)}) is stale: ${lock.why}` : '';
    return { state: 'interrupted', error: `stopped without marking the run (killed, or its machine failed)${stale}`, ...updated, ...step, ...checkpointStep };
  }
  return { state: 'pending', ...checkpointStep };
}

/** How many runs are in each state, in RUN_STATUS_STATES order: "4 runs: 2 done, 1 running, 0 failed, 0 interrupted, 1 pending". */
export function statusCounts(states: readonly RunStatusState[]): string {
  const counts = RUN_STATUS_STATES.map((s) => `${states.filter((x) => x === s).length} ${s}`);
  return `${states.length} run${states.length === 1 ? '' : 's'}: ${counts.join(', ')}`;
}
