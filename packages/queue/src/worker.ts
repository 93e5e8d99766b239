import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DelayedError, WaitingError, Worker, type Job } from 'bullmq';
import { UserError } from '@bayes-peft/core';
import { parseJobData, type RunJobData } from './job-data';
import { checkQueueName, DEFAULT_QUEUE } from './queue-name';
import { redactRedisUrl, watchConnection, workerConnection } from './redis-connection';
import { startRunChild, type RunChild } from './run-child';
import { failureLine, markRunFailed, readLogFrom, runComplete, WORKER_LOG } from './run-folder-state';

export interface WorkerOptions {
  readonly redis: string;
  readonly queueName?: string;
  /** Runs at once on this machine (default 1: a run takes the whole GPU). */
  readonly concurrency?: number;
  /** The bayes-peft CLI script (bin/bayes-peft.js) each run is started with. */
  readonly bin: string;
  /**
   * How long a job's lock lasts without renewal (default 120 s). The worker renews it every half
   * of that for as long as the run goes on, so a run may take days; this only bounds how soon a
   * dead worker's job goes back to the queue, and how long Redis may be away before a job that is
   * still running counts as stalled (harmless: its run.lock keeps a second worker off the run).
   */
  readonly lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (those whose lock ran out; default 60 s). */
  readonly stalledIntervalMs?: number;
  /** Times a job may stall (its worker died) and go back to the queue before it fails (default 3). */
  readonly maxStalledCount?: number;
  /** A run that is running elsewhere (live run.lock) is looked at again after this long (default 60 s). */
  readonly recheckMs?: number;
  /** This worker's name in logs and on its jobs (default host:pid). */
  readonly name?: string;
  /** Where the worker's own lines go (default: stdout, with a time stamp). */
  readonly log?: (line: string) => void;
}

/** What a job returns (BullMQ keeps it with the completed job). */
export interface RunJobResult {
  readonly run: string;
  readonly dir: string;
  readonly worker: string;
  readonly seconds: number;
  /** The run was complete before this worker started it (another attempt or a local run finished it). */
  readonly alreadyComplete: boolean;
}

export interface QueueWorker {
  readonly name: string;
  /** Resolves once the worker has stopped (after stop(), or a fatal error). */
  readonly closed: Promise<void>;
  /**
   * Stops taking jobs. Running runs are interrupted (they checkpoint after their current step)
   * and their jobs go back to the queue for any worker to resume, without using up an attempt.
   * `now`: the runs are killed instead (they resume from their last checkpoint).
   */
  stop(now?: boolean): Promise<void>;
  /** Jobs this worker is running. */
  running(): number;
}

export const DEFAULTS = { lockDurationMs: 120_000, stalledIntervalMs: 60_000, maxStalledCount: 3, recheckMs: 60_000 } as const;

const defaultLog = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

/**
 * Pulls run jobs from the queue and runs each in a child process (run-child.ts), `concurrency` at
 * a time. A run that exits 0 with its folder complete completes the job; one that fails fails
 * the attempt (BullMQ retries with backoff up to the job's attempts, and the last failure marks
 * the run failed in its status.json); one skipped because another process holds its run.lock is
 * postponed (recheckMs) without using an attempt.
 */
export async function startWorker(options: WorkerOptions): Promise<QueueWorker> {
  const queueName = checkQueueName(options.queueName ?? DEFAULT_QUEUE);
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UserError(`--concurrency: expected a whole number of at least 1, got ${concurrency}`);
  const lockDuration = options.lockDurationMs ?? DEFAULTS.lockDurationMs;
  const stalledInterval = options.stalledIntervalMs ?? DEFAULTS.stalledIntervalMs;
  for (const [flag, v] of [['--lock-duration', lockDuration], ['--stalled-interval', stalledInterval]] as const) {
    if (!(v >= 100)) throw new UserError(`${flag}: expected at least 0.1 s, got ${v / 1000} s`);
  }
  const recheckMs = options.recheckMs ?? DEFAULTS.recheckMs;
  const name = options.name ?? `${os.hostname()}:${process.pid}`;
  const log = options.log ?? defaultLog;

  const children = new Map<string, RunChild>();
  let inFlight = 0;
  let stopping: false | 'handback' | 'now' = false;
  // Read through a call where an await may have changed it (TypeScript would keep its narrowing).
  const stopState = () => stopping;

  async function processRun(job: Job<RunJobData>, token?: string): Promise<RunJobResult> {
    inFlight += 1;
    try {
      return await runJob(job, token);
    } finally {
      inFlight -= 1;
    }
  }

  async function runJob(job: Job<RunJobData>, token?: string): Promise<RunJobResult> {
    const data = parseJobData(job.data);
    const t0 = Date.now();
    const attempts = job.opts.attempts ?? 1;
    const attempt = job.attemptsMade + 1;
    await fs.mkdir(data.dir, { recursive: true });
    if (await runComplete(data.dir)) {
      log(`${job.id}: complete already (${data.dir})`);
      return { run: data.run, dir: data.dir, worker: name, seconds: 0, alreadyComplete: true };
    }
    const logFile = path.join(data.dir, WORKER_LOG);
    // A job whose worker died went back to the queue without using an attempt: say so.
    const which = `attempt ${attempt} of ${attempts}${job.stalledCounter > 0 ? `, restarted after ${job.stalledCounter} lost worker${job.stalledCounter === 1 ? '' : 's'}` : ''}`;
    const header = `=== ${new Date().toISOString()} worker ${name}: job ${job.id}, ${which} ===`;
    if (stopping) return handBack(job, token, 'the worker was stopping');
    const child = await startRunChild(options.bin, data, logFile, header);
    children.set(job.id!, child);
    log(`took ${job.id} (${which}, pid ${child.pid}) -> ${logFile}`);
    // stop() may have come while the child was starting, too late to reach it through `children`.
    if (stopState() === 'handback') child.interrupt();
    else if (stopState() === 'now') child.kill();
    let end;
    try {
      end = await child.exited;
    } finally {
      children.delete(job.id!);
    }
    const output = await readLogFrom(logFile, child.logOffset);
    const seconds = (Date.now() - t0) / 1000;

    if (end.code === 0 && (await runComplete(data.dir))) {
      // The run may have been finished by another process just before this one got its lock:
      // the CLI then skips it as complete (its log says so).
      const alreadyComplete = /complete already/.test(output);
      log(`finished ${job.id} in ${seconds.toFixed(1)} s${alreadyComplete ? ' (complete already: finished elsewhere)' : ''}`);
      return { run: data.run, dir: data.dir, worker: name, seconds, alreadyComplete };
    }
    if (stopping) return handBack(job, token, stopping === 'now' ? 'killed' : 'interrupted at a checkpoint');
    if (end.code === 0 && /running elsewhere/.test(output)) {
      // Another process holds the run's lock: a worker whose lock on this job lapsed (Redis was
      // away) but whose run goes on, a worker killed without its run, someone's terminal. Look
      // again later: by then it is complete, or its holder is dead and the lock stale.
      await job.moveToDelayed(Date.now() + recheckMs, token);
      log(`${job.id}: running elsewhere; looking again in ${Math.round(recheckMs / 1000)} s`);
      throw new DelayedError();
    }
    const reason = `bayes-peft exited with ${end.signal ? `signal ${end.signal}` : `code ${end.code}`}${end.code === 0 ? ' but the run is not complete' : ''}: ${failureLine(output)}`;
    const last = attempt >= attempts;
    if (last) await markRunFailed(data.dir, reason, { job: job.id, queue: queueName, attempts: attempt, log: logFile });
    log(`failed ${job.id} (attempt ${attempt} of ${attempts}${last ? '; no attempts left: marked failed' : '; it will be retried'}): ${reason}`);
    throw new Error(reason);
  }

  /**
   * Shutting down: the job goes back to wait, without using an attempt, for the next free worker,
   * which resumes the run from its checkpoint. WaitingError tells BullMQ the job was moved, not
   * failed.
   */
  async function handBack(job: Job<RunJobData>, token: string | undefined, why: string): Promise<never> {
    await job.moveToWait(token);
    log(`handed back ${job.id} (${why}; the next worker resumes it)`);
    throw new WaitingError();
  }

  const connection = workerConnection(options.redis, `bayes-peft-worker ${name}`);
  const watch = watchConnection(connection, log);
  const worker = new Worker<RunJobData, RunJobResult>(queueName, processRun, {
    connection,
    name,
    concurrency,
    lockDuration,
    stalledInterval,
    maxStalledCount: options.maxStalledCount ?? DEFAULTS.maxStalledCount,
    autorun: false,
  });
  // BullMQ reports every failed Redis command and lock renewal as an 'error'; the connection
  // watcher already says when Redis is away, so only other errors get a line.
  worker.on('error', (e) => {
    if (connection.status === 'ready') log(`worker error: ${e.message}`);
  });

  // A worker that exits some other way (an uncaught error) takes its runs with it: their jobs
  // stall and go to another worker, which resumes them from their checkpoints.
  const killChildren = () => {
    for (const child of children.values()) child.kill();
  };
  process.on('exit', killChildren);

  let stopped: Promise<void> | undefined;
  let finished = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const finish = (how: string) => {
    if (finished) return;
    finished = true;
    process.off('exit', killChildren);
    watch.stop();
    connection.disconnect();
    log(`worker ${name} ${how}`);
    resolveClosed();
  };

  async function stop(now = false): Promise<void> {
    if (now) {
      stopping = 'now';
      killChildren();
      // With Redis away, what the worker still has to tell it (a job handed back) cannot go out:
      // give up after a while; those jobs go back to the queue when their locks run out.
      setTimeout(() => finish('stopped without Redis: its jobs go back to the queue when their locks run out'), 10_000).unref();
    } else if (!stopping) {
      stopping = 'handback';
      for (const child of children.values()) child.interrupt();
    }
    stopped ??= (async () => {
      try {
        // Redis away and no job in hand: nothing to hand back and no one to tell, so no waiting
        // for Redis. Otherwise: no new job, and the running ones (ended by the lines above) are
        // handed back or completed before the connection closes.
        if (connection.status !== 'ready' && inFlight === 0) await worker.close(true);
        else await worker.close();
      } finally {
        finish('stopped');
      }
    })();
    return Promise.race([stopped, closed]);
  }

  void worker.run().catch((e: Error) => {
    log(`worker error: ${e.message}; stopping`);
    void stop(true);
  });
  log(`worker ${name} on queue '${queueName}' at ${redactRedisUrl(options.redis)}, concurrency ${concurrency}`);
  return { name, closed, stop, running: () => children.size };
}
