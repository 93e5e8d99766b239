import * as path from 'node:path';
import { Queue, type JobsOptions } from 'bullmq';
import { UserError } from '@bayes-peft/core';
import type { RunJobData } from './job-data';
import { runJobId } from './job-id';
import { listRuns } from './list-runs';
import { checkQueueName, DEFAULT_QUEUE } from './queue-name';
import { commandConnection, redactRedisUrl } from './redis-connection';

export interface EnqueueOptions {
  /** redis://host:port of the Redis every worker reaches. */
  readonly redis: string;
  readonly queueName?: string;
  /** How many times a run is started before its job fails for good (default 3). */
  readonly attempts?: number;
  /** The first retry's delay; each later one doubles it (default 60 s). */
  readonly backoffSeconds?: number;
  /** The bayes-peft CLI script (bin/bayes-peft.js) that lists the spec's runs. */
  readonly bin: string;
  /** Where relative paths of the spec resolve from, for the workers as for the listing (default: the working directory). */
  readonly cwd?: string;
  /** Jobs of this spec that failed for good go back to the queue, with their attempts counted afresh. */
  readonly retryFailed?: boolean;
}

export interface EnqueueResult {
  readonly queueName: string;
  /** Every run of the spec, in plan order, with its job id. */
  readonly runs: readonly { readonly id: string; readonly jobId: string }[];
  /** Job ids added now. */
  readonly added: readonly string[];
  /** Jobs the queue held already (from an earlier enqueue), with their state then. */
  readonly existing: readonly { readonly jobId: string; readonly state: string }[];
  /** Failed jobs sent back to the queue (retryFailed). */
  readonly retried: readonly string[];
}

export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_SECONDS = 60;

/**
 * Adds one job per run of a spec (job id = the run's id, prefixed per spec: see runJobId). A run
 * whose job the queue holds already, whatever its state, is not added again; completed and failed
 * jobs are kept in Redis for exactly that reason (and for the record).
 */
export async function enqueueSpec(specFile: string, options: EnqueueOptions): Promise<EnqueueResult> {
  const queueName = checkQueueName(options.queueName ?? DEFAULT_QUEUE);
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  if (!Number.isInteger(attempts) || attempts < 1) throw new UserError(`--attempts: expected a whole number of at least 1, got ${attempts}`);
  const backoffSeconds = options.backoffSeconds ?? DEFAULT_BACKOFF_SECONDS;
  if (!(backoffSeconds >= 0)) throw new UserError(`--backoff: expected seconds (0 or more), got ${backoffSeconds}`);
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const spec = path.resolve(cwd, specFile);
  // The spec is planned (validated) before Redis is touched: a bad spec adds nothing.
  const listed = await listRuns(options.bin, spec, cwd);

  const connection = commandConnection(options.redis);
  const queue = new Queue<RunJobData>(queueName, { connection });
  // Connection errors reach us through the commands below (a UserError naming the URL); BullMQ
  // would print each one with its stack besides.
  queue.on('error', () => undefined);
  const jobOptions: JobsOptions = {
    attempts,
    backoff: { type: 'exponential', delay: backoffSeconds * 1000 },
    removeOnComplete: false,
    removeOnFail: false,
  };
  const runs = listed.map((r) => ({ id: r.id, jobId: runJobId(spec, r.id) }));
  const added: string[] = [];
  const existing: { jobId: string; state: string }[] = [];
  const retried: string[] = [];
  try {
    await queue.waitUntilReady().catch((e: Error) => {
      throw new UserError(`could not reach Redis at ${redactRedisUrl(options.redis)}: ${e.message}`);
    });
    for (const [i, run] of listed.entries()) {
      const { jobId } = runs[i];
      const held = await queue.getJob(jobId);
      if (held) {
        const state = await held.getState();
        existing.push({ jobId, state });
        if (options.retryFailed && state === 'failed') {
          await held.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
          retried.push(jobId);
        }
        continue;
      }
      await queue.add(run.id, { spec, run: run.id, cwd, dir: run.dir }, { ...jobOptions, jobId });
      added.push(jobId);
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
  return { queueName, runs, added, existing, retried };
}
