import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '@bayes-peft/core';
import { acquireRunLock, readRunLock, RUN_LOCK_FILE, tryAcquireRunLock, type RunLock, type RunLockRecord } from './run-lock';

jest.setTimeout(20_000);

const FAST = { heartbeatMs: 40, staleMs: 2_000, pollMs: 20 };

function memoryLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(`warning: ${m}`), debug: () => undefined };
}

/** A pid that was alive a moment ago and is certainly gone now. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8', timeout: 10_000 });
  return Number(child.stdout);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('run lock', () => {
  let root: string;
  let dir: string;
  const held: RunLock[] = [];

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'bayes-peft-lock-'));
    dir = path.join(root, 'runs', 'spec', 'mle-toy-seed1');
  });

  afterEach(async () => {
    for (const lock of held.splice(0)) await lock.release();
    await fs.rm(root, { recursive: true, force: true });
  });

  async function take(options = {}): Promise<RunLock> {
    const claim = await tryAcquireRunLock(dir, { ...FAST, ...options });
    if (!claim.lock) throw new Error(`expected the lock, held by ${JSON.stringify(claim.holder)}`);
    held.push(claim.lock);
    return claim.lock;
  }

  const lockFile = () => path.join(dir, RUN_LOCK_FILE);
  const readLock = async (): Promise<RunLockRecord> => JSON.parse(await fs.readFile(lockFile(), 'utf8'));
  const writeLock = async (record: Partial<RunLockRecord>) => {
    await fs.mkdir(dir, { recursive: true });
    const now = new Date().toISOString();
    await fs.writeFile(lockFile(), JSON.stringify({ host: 'node-7', pid: 4242, started: now, heartbeat: now, token: 'theirs', ...record }));
  };

  it('is created with its parent folders, names its holder, and a second claimant gets the holder', async () => {
    const lock = await take();
    const record = await readLock();
    expect(record).toMatchObject({ host: os.hostname(), pid: process.pid, token: lock.holder.token });
    expect(Date.parse(record.started)).toBeLessThanOrEqual(Date.now());
    const second = await tryAcquireRunLock(dir, FAST);
    expect(second.lock).toBeUndefined();
    expect(second.holder?.token).toBe(lock.holder.token);
    expect(await readRunLock(dir, FAST)).toMatchObject({ live: true, record: { token: lock.holder.token } });
    // Only run.lock is left in the folder: no temporary files.
    expect(await fs.readdir(dir)).toEqual([RUN_LOCK_FILE]);
    await lock.release();
    expect(await fs.readdir(dir)).toEqual([]);
    expect(await readRunLock(dir, FAST)).toBeNull();
  });

  it('renews its heartbeat while held, and stops when released', async () => {
    const lock = await take();
    const first = (await readLock()).heartbeat;
    await sleep(250);
    const renewed = await readLock();
    expect(Date.parse(renewed.heartbeat)).toBeGreaterThan(Date.parse(first));
    expect(renewed.started).toBe(lock.holder.started);
    await lock.release();
    await sleep(150);
    expect(await readRunLock(dir, FAST)).toBeNull();
  });

  it('a lock of a dead process on this machine is taken over at once, saying whose', async () => {
    const pid = deadPid();
    await writeLock({ host: os.hostname(), pid });
    const log = memoryLog();
    const lock = await take({ log });
    expect((await readLock()).token).toBe(lock.holder.token);
    expect(log.lines).toEqual([`  took over the stale lock of ${os.hostname()} pid ${pid} (process ${pid} is gone)`]);
  });

  it("a lock with this process's pid that this process does not hold is an earlier process's (a restarted container)", async () => {
    await writeLock({ host: os.hostname(), pid: process.pid });
    expect(await readRunLock(dir, FAST)).toMatchObject({ live: false, why: `an earlier process with pid ${process.pid}` });
    await take();
  });

  it('a lock of another machine is live while its heartbeat is recent, stale once it is older than staleMs', async () => {
    await writeLock({});
    const claim = await tryAcquireRunLock(dir, FAST);
    expect(claim.holder).toMatchObject({ host: 'node-7', pid: 4242 });
    await writeLock({ heartbeat: new Date(Date.now() - 3_000).toISOString() });
    const log = memoryLog();
    await take({ log });
    expect(log.lines).toEqual(['  took over the stale lock of node-7 pid 4242 (its heartbeat is 3 s old)']);
  });

  it('an unreadable lock is live while recent (being written), stale once old', async () => {
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(lockFile(), '');
    expect(await tryAcquireRunLock(dir, FAST)).toEqual({ holder: undefined });
    const old = new Date(Date.now() - 10_000);
    await fs.utimes(lockFile(), old, old);
    await take();
  });

  it('of many claimants of one stale lock, exactly one takes it over', async () => {
    await writeLock({ heartbeat: new Date(Date.now() - 60_000).toISOString() });
    const claims = await Promise.all(Array.from({ length: 12 }, () => tryAcquireRunLock(dir, FAST)));
    const winners = claims.filter((c) => c.lock);
    held.push(...winners.map((c) => c.lock!));
    expect(winners).toHaveLength(1);
    const token = winners[0].lock!.holder.token;
    expect((await readLock()).token).toBe(token);
    for (const c of claims.filter((c) => !c.lock)) expect(c.holder?.token).toBe(token);
    // The take-over markers are gone.
    expect(await fs.readdir(dir)).toEqual([RUN_LOCK_FILE]);
  });

  it('a marker left by a claimant that died while taking over does not block the next one', async () => {
    await writeLock({ heartbeat: new Date(Date.now() - 90_000).toISOString() });
    // The marker a claimant makes, named after the exact stale lock (its bytes and mtime).
    const stat = await fs.stat(lockFile());
    const key = createHash('sha256').update(`${stat.mtimeMs}\0${await fs.readFile(lockFile(), 'utf8')}`).digest('hex').slice(0, 16);
    const marker = `${lockFile()}.takeover-${key}-0`;
    await fs.writeFile(marker, 'dead 1\n');
    // A fresh marker: someone is taking it over right now (the claimant retries, then reports the lock held).
    const slow = { ...FAST, staleMs: 60_000 };
    expect((await tryAcquireRunLock(dir, slow)).lock).toBeUndefined();
    // Its claimant died: the marker ages past staleMs and the next claimant passes it over.
    const old = new Date(Date.now() - 120_000);
    await fs.utimes(marker, old, old);
    await take(slow);
    expect(await fs.readdir(dir)).toEqual([RUN_LOCK_FILE]);
  });

  it('a holder whose lock was taken by another process is told at its next heartbeat and does not delete the new lock', async () => {
    const lost = jest.fn();
    const lock = await take({ onLost: lost });
    await writeLock({ token: 'newer' });
    await sleep(200);
    expect(lost).toHaveBeenCalledWith(expect.objectContaining({ token: 'newer', host: 'node-7' }));
    await lock.release();
    expect((await readLock()).token).toBe('newer');
  });

  it('--wait: a claimant polls until the holder releases the lock', async () => {
    const first = await take();
    const log = memoryLog();
    const waiting = acquireRunLock(dir, { ...FAST, wait: true, log });
    await sleep(150);
    await first.release();
    const claim = await waiting;
    expect(claim.lock).toBeDefined();
    held.push(claim.lock!);
    expect(log.lines).toEqual([`  running elsewhere (${os.hostname()} pid ${process.pid}); waiting for it (--wait)`]);
  });

  it('--wait ends when the signal aborts, with the holder', async () => {
    await writeLock({});
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const claim = await acquireRunLock(dir, { ...FAST, wait: true, signal: controller.signal });
    expect(claim).toEqual({ holder: expect.objectContaining({ host: 'node-7' }) });
  });

  it('refuses a stale age that a live lock could reach between two heartbeats', async () => {
    await expect(tryAcquireRunLock(dir, { heartbeatMs: 1000, staleMs: 1500 })).rejects.toThrow('the stale age must be at least twice the heartbeat interval');
  });
});
