/**
 * The lock of one run folder, so that two processes given the same run at once (two Slurm array
 * tasks after a requeue, two queue workers, a user's second terminal) never both train it. It is
 * the file `<run folder>/run.lock`, on the same shared filesystem as the run, so it works across
 * machines with no server: NFS (v3 and later) and Lustre make creating a file exclusively and
 * renaming over a file atomic, which is all it relies on.
 *
 * - Acquire: the record is written to a temporary file and hard-linked to run.lock; link fails
 *   when run.lock exists, so exactly one claimant wins and no one ever reads a half-written lock.
 *   (Filesystems without hard links: open(run.lock, 'wx') instead.)
 * - Heartbeat: the holder rewrites the record every `heartbeatMs` (temporary file, renamed over
 *   run.lock), after checking that the lock is still its own.
 * - Stale: the heartbeat is older than `staleMs`, or the holder is on this machine (same host name
 *   and pid namespace) and its process is gone: no such pid, a pid reused by a process started at
 *   another time, a machine booted since, or this very process's pid without the lock being held
 *   here (a restarted container whose process got the same pid).
 * - Take-over of a stale lock: the claimant creates, exclusively, a marker file named after the
 *   exact lock it judged stale (a hash of its bytes and modification time). Only one claimant can
 *   create the marker for that lock; it reads run.lock again and, if it is still those bytes,
 *   renames its own record over it. The others find the marker and try again a moment later, when
 *   they find the new lock live. A marker older than `staleMs` (its claimant died in those few
 *   milliseconds) is passed over for the next numbered one, never deleted by another process.
 * - Release: the holder deletes run.lock if it is still its own, whatever the run's outcome.
 *
 * Like every lease, this assumes no holder stalls longer than `staleMs` without noticing: a
 * holder that finds its lock taken at a heartbeat (it was suspended, or its clock or the
 * network's were off by more than staleMs) is told through `onLost` and the run stops.
 */
import { createHash, randomUUID } from 'node:crypto';
import { promises as fs, readFileSync, readlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError, type Logger } from '@bayes-peft/core';
import { readEnv } from '@bayes-peft/env';
import { z } from 'zod';

export const RUN_LOCK_FILE = 'run.lock';

/** What run.lock holds: who runs the run, since when, and when it last said it was alive. */
export interface RunLockRecord {
  readonly host: string;
  readonly pid: number;
  /** ISO times: when the lock was taken, and its last renewal. */
  readonly started: string;
  readonly heartbeat: string;
  /** Unique per acquisition: how a holder recognises its own lock. */
  readonly token: string;
  /** Linux only, to tell a dead holder from a live one on the same machine (see holderGone). */
  readonly bootId?: string;
  readonly pidNamespace?: string;
  readonly pidStart?: number;
}

const RecordSchema = z.object({
  host: z.string(),
  pid: z.number().int(),
  started: z.string(),
  heartbeat: z.string(),
  token: z.string(),
  bootId: z.string().optional(),
  pidNamespace: z.string().optional(),
  pidStart: z.number().optional(),
});

export const RunLockOptionsSchema = z
  .object({
    heartbeatMs: z.number().int().positive().optional(),
    staleMs: z.number().int().positive().optional(),
    /** How often a waiting claimant (--wait) looks again. */
    pollMs: z.number().int().positive().optional(),
  })
  .transform((o) => {
    const heartbeatMs = o.heartbeatMs ?? readEnv('BAYES_PEFT_LOCK_HEARTBEAT_MS');
    return { heartbeatMs, staleMs: o.staleMs ?? readEnv('BAYES_PEFT_LOCK_STALE_MS'), pollMs: o.pollMs ?? Math.min(heartbeatMs, 2000) };
  })
  .refine((o) => o.staleMs >= 2 * o.heartbeatMs, {
    message: 'the stale age must be at least twice the heartbeat interval, or a live lock could look stale (BAYES_PEFT_LOCK_STALE_MS, BAYES_PEFT_LOCK_HEARTBEAT_MS)',
  });

export type RunLockOptions = z.input<typeof RunLockOptionsSchema>;
type LockTimes = z.output<typeof RunLockOptionsSchema>;

function lockTimes(options: RunLockOptions): LockTimes {
  const parsed = RunLockOptionsSchema.safeParse(options);
  if (!parsed.success) throw new UserError(`run lock: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

/** Tokens of the locks this process holds (a lock with our pid but not one of these is an earlier process's). */
const HELD = new Set<string>();

/** This machine's identity for telling whether a lock's process is alive; read once. */
const SELF = (() => {
  const read = (f: () => string) => {
    try {
      return f().trim();
    } catch {
      return undefined;
    }
  };
  return {
    host: os.hostname(),
    bootId: read(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    pidNamespace: read(() => readlinkSync('/proc/self/ns/pid')),
  };
})();

/** When a process started, in clock ticks since boot (/proc/<pid>/stat, field 22); undefined off Linux. */
function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

function newRecord(token = randomUUID(), started = new Date().toISOString()): RunLockRecord {
  const pidStart = processStart(process.pid);
  return {
    host: SELF.host,
    pid: process.pid,
    started,
    heartbeat: new Date().toISOString(),
    token,
    ...(SELF.bootId ? { bootId: SELF.bootId } : {}),
    ...(SELF.pidNamespace ? { pidNamespace: SELF.pidNamespace } : {}),
    ...(pidStart !== undefined ? { pidStart } : {}),
  };
}

function parseRecord(raw: string): RunLockRecord | undefined {
  try {
    const r = RecordSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** Why the holder of a lock on this machine is certainly gone; undefined when it may be alive (or is elsewhere). */
function holderGone(rec: RunLockRecord): string | undefined {
  if (rec.host !== SELF.host) return undefined;
  if (rec.bootId && SELF.bootId && rec.bootId !== SELF.bootId) return 'this machine has restarted since';
  // Another pid namespace (a container sharing the host name) cannot see the holder's pid.
  if (rec.pidNamespace && SELF.pidNamespace && rec.pidNamespace !== SELF.pidNamespace) return undefined;
  if (rec.pid === process.pid) return HELD.has(rec.token) ? undefined : `an earlier process with pid ${rec.pid}`;
  try {
    process.kill(rec.pid, 0);
  } catch (e) {
    // EPERM: the process exists (another user's).
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return `process ${rec.pid} is gone`;
  }
  if (rec.pidStart !== undefined) {
    const start = processStart(rec.pid);
    if (start !== undefined && start !== rec.pidStart) return `process ${rec.pid} is gone (its pid was reused)`;
  }
  return undefined;
}

interface Observed {
  readonly raw: string;
  readonly mtimeMs: number;
}

async function observe(file: string): Promise<Observed | null> {
  try {
    const handle = await fs.open(file, 'r');
    try {
      const [raw, stat] = await Promise.all([handle.readFile('utf8'), handle.stat()]);
      return { raw, mtimeMs: stat.mtimeMs };
    } finally {
      await handle.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** A lock as another process sees it: its record (unless unreadable), whether it is live, and why not. */
export interface RunLockState {
  readonly record?: RunLockRecord;
  readonly live: boolean;
  /** Why it is stale (for log lines). */
  readonly why?: string;
}

function judge(observed: Observed, times: LockTimes, now = Date.now()): RunLockState {
  const record = parseRecord(observed.raw);
  if (!record) {
    // Unreadable: being written by a filesystem without hard links, or damaged. Its age decides.
    const age = now - observed.mtimeMs;
    return age > times.staleMs ? { live: false, why: `an unreadable lock untouched for ${seconds(age)}` } : { live: true };
  }
  const age = now - Date.parse(record.heartbeat);
  if (!(age <= times.staleMs)) return { record, live: false, why: `its heartbeat is ${Number.isFinite(age) ? seconds(age) : 'unreadable'} old` };
  const gone = holderGone(record);
  return gone ? { record, live: false, why: gone } : { record, live: true };
}

function seconds(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

/** The lock of a run folder as it is now; null when there is none. For `bayes-peft status`. */
export async function readRunLock(dir: string, options: RunLockOptions = {}): Promise<RunLockState | null> {
  const observed = await observe(path.join(dir, RUN_LOCK_FILE));
  return observed ? judge(observed, lockTimes(options)) : null;
}

/** "host pid 123" for log lines. */
export function describeHolder(record: RunLockRecord | undefined): string {
  return record ? `${record.host} pid ${record.pid}` : 'another process';
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Creates `file` holding `text` only if it does not exist; false when it does. */
async function createExclusive(file: string, text: string, token: string): Promise<boolean> {
  const tmp = `${file}.${token}.tmp`;
  await fs.writeFile(tmp, text);
  try {
    await fs.link(tmp, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'].includes(code ?? '')) throw e;
    // No hard links here: an exclusive create (readers take the moment it is empty as live).
    try {
      await fs.writeFile(file, text, { flag: 'wx' });
      return true;
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e2;
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** Writes `text` to `file` by renaming a temporary file over it (readers see the old or the new record, whole). */
async function replace(file: string, text: string, token: string): Promise<void> {
  const tmp = `${file}.${token}.tmp`;
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, file);
}

/**
 * Replaces the stale lock `observed` with `record`, race-safe against other claimants (see the
 * module comment): 'ok' when done, 'busy' when another claimant is replacing it right now,
 * 'changed' when run.lock is no longer the lock judged stale.
 */
async function takeOver(file: string, observed: Observed, record: RunLockRecord, times: LockTimes): Promise<'ok' | 'busy' | 'changed'> {
  const key = createHash('sha256').update(`${observed.mtimeMs}\0${observed.raw}`).digest('hex').slice(0, 16);
  const marker = (k: number) => `${file}.takeover-${key}-${k}`;
  let k = 0;
  for (;;) {
    try {
      await fs.writeFile(marker(k), `${record.host} ${record.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const stat = await fs.stat(marker(k)).catch(() => null);
      if (!stat) continue;
      if (Date.now() - stat.mtimeMs <= times.staleMs) return 'busy';
      k += 1;
    }
  }
  try {
    const now = await observe(file);
    if (!now || now.raw !== observed.raw || now.mtimeMs !== observed.mtimeMs) return 'changed';
    await replace(file, JSON.stringify(record), record.token);
    return 'ok';
  } finally {
    // This marker and those of claimants that died holding one: run.lock is no longer the lock they name.
    for (let i = 0; i <= k; i++) await fs.rm(marker(i), { force: true });
  }
}

/** What a claim of a run's lock gives: the lock, or the live holder (run elsewhere). */
export type RunLockClaim = { readonly lock: RunLock; readonly holder?: undefined } | { readonly lock?: undefined; readonly holder: RunLockRecord | undefined };

export interface AcquireOptions extends RunLockOptions {
  readonly log?: Logger;
  /** Called once when a heartbeat finds the lock taken by another process. */
  readonly onLost?: (holder: RunLockRecord | undefined) => void;
}

/**
 * One attempt to take the lock of the run folder `dir` (made with its parent folders if
 * missing): the lock, or the live holder's record.
 */
export async function tryAcquireRunLock(dir: string, options: AcquireOptions = {}): Promise<RunLockClaim> {
  const times = lockTimes(options);
  const file = path.join(dir, RUN_LOCK_FILE);
  let holder: RunLockRecord | undefined;
  let unreadable = 0;
  for (let attempt = 0; attempt < 100; attempt++) {
    await fs.mkdir(dir, { recursive: true });
    const record = newRecord();
    try {
      if (await createExclusive(file, JSON.stringify(record), record.token)) return { lock: new RunLock(dir, record, times, options) };
    } catch (e) {
      // The run folder was removed in between (an empty folder cleaned up by a failed claimant): make it again.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const observed = await observe(file);
    if (!observed) continue; // released meanwhile
    const state = judge(observed, times);
    holder = state.record;
    if (state.live) {
      // Unreadable but recent: being written (a filesystem without hard links); read it again a few times.
      if (state.record || ++unreadable > 5) return { holder: state.record };
      await sleep(20);
      continue;
    }
    const outcome = await takeOver(file, observed, record, times);
    if (outcome === 'ok') {
      options.log?.info(`  took over the stale lock of ${describeHolder(state.record)} (${state.why})`);
      return { lock: new RunLock(dir, record, times, options) };
    }
    if (outcome === 'busy') await sleep(20);
  }
  // Only under a storm of claimants or a lock that never settles: treat it as held.
  return { holder };
}

/**
 * Takes the lock of `dir`; with `wait`, polls until the holder releases it or it goes stale
 * (the `signal` ends the wait: then the holder is returned as if not waiting).
 */
export async function acquireRunLock(dir: string, options: AcquireOptions & { readonly wait?: boolean; readonly signal?: AbortSignal } = {}): Promise<RunLockClaim> {
  const times = lockTimes(options);
  let said = false;
  for (;;) {
    const claim = await tryAcquireRunLock(dir, options);
    if (claim.lock || !options.wait || options.signal?.aborted) return claim;
    if (!said) options.log?.info(`  running elsewhere (${describeHolder(claim.holder)}); waiting for it (--wait)`);
    said = true;
    await sleep(times.pollMs, options.signal);
  }
}

/** A held run lock: renews its heartbeat until released. */
export class RunLock {
  readonly file: string;
  private record: RunLockRecord;
  private timer: NodeJS.Timeout | undefined;
  private beat: Promise<void> = Promise.resolve();
  private lost = false;
  private warned = false;

  constructor(
    readonly dir: string,
    record: RunLockRecord,
    times: LockTimes,
    private readonly options: AcquireOptions,
  ) {
    this.file = path.join(dir, RUN_LOCK_FILE);
    this.record = record;
    HELD.add(record.token);
    this.timer = setInterval(() => {
      // One renewal at a time: a slow filesystem must not stack them up.
      this.beat = this.beat.then(() => this.renew());
    }, times.heartbeatMs);
    // The heartbeat alone must not keep a finished process alive.
    this.timer.unref();
  }

  get holder(): RunLockRecord {
    return this.record;
  }

  private async renew(): Promise<void> {
    if (this.lost || !this.timer) return;
    try {
      const now = await observe(this.file);
      const current = now ? parseRecord(now.raw) : undefined;
      if (current?.token !== this.record.token) {
        this.lost = true;
        this.stop();
        this.options.log?.warn(`  lost the run lock of ${this.dir} to ${describeHolder(current)}: this process's heartbeat was late by more than the stale age; stopping the run`);
        this.options.onLost?.(current);
        return;
      }
      this.record = { ...this.record, heartbeat: new Date().toISOString() };
      await replace(this.file, JSON.stringify(this.record), this.record.token);
      this.warned = false;
    } catch (e) {
      // A filesystem hiccup (NFS): say it once and keep trying; the lock goes stale only after staleMs.
      if (!this.warned) this.options.log?.warn(`  could not renew the run lock ${this.file}: ${(e as Error).message}`);
      this.warned = true;
    }
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops the heartbeat and deletes run.lock if it is still this process's. Safe to call twice. */
  async release(): Promise<void> {
    this.stop();
    await this.beat;
    HELD.delete(this.record.token);
    const now = await observe(this.file).catch(() => null);
    if (now && parseRecord(now.raw)?.token === this.record.token) await fs.rm(this.file, { force: true });
    await fs.rm(`${this.file}.${this.record.token}.tmp`, { force: true });
  }
}
