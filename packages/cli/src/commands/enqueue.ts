import { Command } from 'commander';
import { DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_SECONDS, DEFAULT_QUEUE, enqueueSpec, redactRedisUrl } from '@bayes-peft/queue';
import { CLI_BIN } from './cli-bin';
import { positiveInt, seconds } from './queue-options';

interface EnqueueFlags {
  redis: string;
  queue: string;
  attempts: number;
  backoff: number;
  retryFailed: boolean;
  json: boolean;
}

export function enqueueCommand(): Command {
  // exitOverride: a bad option is a CommanderError main() turns into the exit code (addCommand does not pass the program's on).
  return new Command('enqueue')
    .exitOverride()
    .description('add one job per run of a spec to a Redis work queue (BullMQ) that `bayes-peft worker` processes on any machine; a run already queued is not added again')
    .argument('<spec>', 'run spec (YAML), on a filesystem every worker sees at the same path')
    .requiredOption('--redis <url>', 'the Redis every worker reaches, redis://host:port')
    .option('--queue <name>', 'queue name', DEFAULT_QUEUE)
    .option('--attempts <n>', 'times a run is started before its job fails for good', positiveInt, DEFAULT_ATTEMPTS)
    .option('--backoff <seconds>', 'delay before the first retry of a failed run (doubling after)', seconds, DEFAULT_BACKOFF_SECONDS)
    .option('--retry-failed', 'send jobs of this spec that failed for good back to the queue, attempts counted afresh', false)
    .option('--json', 'print {queue, runs, added, existing, retried} as JSON', false)
    .action(async (spec: string, opts: EnqueueFlags) => {
      const got = await enqueueSpec(spec, {
        redis: opts.redis,
        queueName: opts.queue,
        attempts: opts.attempts,
        backoffSeconds: opts.backoff,
        retryFailed: opts.retryFailed,
        bin: CLI_BIN,
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ queue: got.queueName, runs: got.runs, added: got.added, existing: got.existing, retried: got.retried })}\n`);
        return;
      }
      const byState = new Map<string, number>();
      for (const e of got.existing) byState.set(e.state, (byState.get(e.state) ?? 0) + 1);
      const states = [...byState].map(([s, n]) => `${n} ${s}`).join(', ');
      const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
      process.stdout.write(
        `${plural(got.runs.length, 'run')}: added ${plural(got.added.length, 'job')}, ${got.existing.length} already queued${states ? ` (${states})` : ''}` +
          `${got.retried.length ? `; ${plural(got.retried.length, 'failed job')} sent back` : ''} -> queue '${got.queueName}' at ${redactRedisUrl(opts.redis)}\n`,
      );
    });
}
