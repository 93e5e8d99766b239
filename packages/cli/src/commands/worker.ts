import { Command } from 'commander';
import { DEFAULT_QUEUE, startWorker, WORKER_DEFAULTS } from '@bayes-peft/queue';
import { CLI_BIN } from './cli-bin';
import { positiveInt, seconds } from './queue-options';

interface WorkerFlags {
  redis: string;
  queue: string;
  concurrency: number;
  lockDuration: number;
  stalledInterval: number;
  recheck: number;
}

export function workerCommand(): Command {
  // exitOverride: a bad option is a CommanderError main() turns into the exit code (addCommand does not pass the program's on).
  return new Command('worker')
    .exitOverride()
    .description('run jobs of a Redis work queue (filled by `bayes-peft enqueue`), each run in a child process with its log in the run folder (worker.log), until stopped')
    .requiredOption('--redis <url>', 'the Redis `bayes-peft enqueue` used, redis://host:port')
    .option('--queue <name>', 'queue name', DEFAULT_QUEUE)
    .option('--concurrency <n>', 'runs at once on this machine', positiveInt, 1)
    .option('--lock-duration <seconds>', "a job's lock without renewal (renewed while its run goes on): how soon a dead worker's job goes to another", seconds, WORKER_DEFAULTS.lockDurationMs / 1000)
    .option('--stalled-interval <seconds>', 'how often to look for jobs whose worker died', seconds, WORKER_DEFAULTS.stalledIntervalMs / 1000)
    .option('--recheck <seconds>', 'how long a run that is running elsewhere (live run.lock) waits before it is looked at again', seconds, WORKER_DEFAULTS.recheckMs / 1000)
    .action(async (opts: WorkerFlags) => {
      const worker = await startWorker({
        redis: opts.redis,
        queueName: opts.queue,
        concurrency: opts.concurrency,
        bin: CLI_BIN,
        lockDurationMs: opts.lockDuration * 1000,
        stalledIntervalMs: opts.stalledInterval * 1000,
        recheckMs: opts.recheck * 1000,
      });
      // First SIGTERM or Ctrl-C: take no new job; running runs checkpoint after their current
      // step and their jobs go back to the queue. A second one kills the runs (they resume from
      // their last checkpoint) and the jobs go back at once.
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals += 1;
        const running = worker.running();
        if (signals === 1) {
          process.stderr.write(`\n${signal}: stopping; ${running ? `${running} running run${running === 1 ? '' : 's'} checkpoint${running === 1 ? 's' : ''} after the current step and go${running === 1 ? 'es' : ''} back to the queue (again to stop at once)` : 'no run is running'}\n`);
          void worker.stop();
        } else {
          process.stderr.write(`\n${signal} again: killing the running runs; their jobs go back to the queue\n`);
          void worker.stop(true);
        }
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        await worker.closed;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
