import { Command, InvalidArgumentError } from 'commander';
import { planExperiment, runDir, runExperiment, selectRuns, summaryTable, type RunSelection } from '@bayes-peft/runner';
import { BUILTIN_PLUGINS } from '../builtin-plugins';
import { CLI_SEARCH_PATHS } from '../search-paths';
import { writeReport } from './report';

interface ExperimentFlags {
  force: boolean;
  progress: boolean;
  json: boolean;
  list: boolean;
  run?: string;
  index?: number;
  shard?: string;
  wait: boolean;
  report: boolean;
}

function runIndex(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError('a run index is a whole number from 0 (--list shows them)');
  return Number(text);
}

export function experimentCommand(): Command {
  // exitOverride: a bad option is a CommanderError main() turns into the exit code (addCommand does not pass the program's on).
  return new Command('experiment')
    .exitOverride()
    .description('run every run of a YAML run spec (a matrix expands to several) and print a metrics table')
    .argument('<spec>', 'run spec (YAML)')
    .option('--force', 'rerun runs whose folder is already complete', false)
    .option('--no-progress', 'plain log lines instead of progress bars')
    .option('--json', 'print the run summaries (with --list: the runs) as JSON lines instead of a table', false)
    .option('--list', 'print the run ids in plan order (the order --index counts in) and run nothing', false)
    .option('--run <id>', 'run only the run with this id')
    .option('--index <i>', 'run only the run at this 0-based position of --list (a Slurm array task id, a Kubernetes completion index)', runIndex)
    .option('--shard <i/n>', 'run only the runs whose index mod n is i (0 <= i < n)')
    .option('--wait', "wait for a run another process is running (its run.lock is live) instead of skipping it", false)
    .option('--no-report', "don't write report.html into the spec's runs folder when the whole spec has run")
    .action(async (spec: string, opts: ExperimentFlags) => {
      const select: RunSelection = { run: opts.run, index: opts.index, shard: opts.shard };
      if (opts.list) return listRuns(spec, select, opts.json);
      // First Ctrl-C (or a scheduler's SIGTERM: Slurm preemption, a Kubernetes pod deletion):
      // finish the current step, checkpoint, exit; the same command resumes. A second one exits at once.
      const controller = new AbortController();
      const onSignal = () => {
        if (controller.signal.aborted) process.exit(130);
        process.stderr.write('\ninterrupting after the current step (Ctrl-C again to quit now)\n');
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let runs;
      try {
        runs = await runExperiment(spec, {
          force: opts.force,
          progress: opts.progress,
          searchPaths: CLI_SEARCH_PATHS,
          builtinPlugins: BUILTIN_PLUGINS,
          signal: controller.signal,
          select,
          wait: opts.wait,
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      if (opts.json) {
        for (const r of runs) process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      const done = runs.filter((r) => r.skipped !== 'locked');
      const elsewhere = runs.length - done.length;
      if (done.length) process.stdout.write(`\n${summaryTable(done)}\n`);
      if (elsewhere) process.stdout.write(`\n${elsewhere} run${elsewhere === 1 ? ' is' : 's are'} running elsewhere (skipped; --wait waits for them, \`bayes-peft status\` shows them)\n`);
      // A selection (a Slurm or Kubernetes task's one run) leaves the report to `bayes-peft report`:
      // tasks finishing together would write it at once, each from a partial matrix.
      const selected = select.run !== undefined || select.index !== undefined || select.shard !== undefined;
      if (opts.report && !selected && done.length) {
        try {
          const { file } = await writeReport(spec);
          process.stdout.write(`\nreport: ${file}\n`);
        } catch (e) {
          process.stderr.write(`warning: no report written (${(e as Error).message}); \`bayes-peft report ${spec}\` tries again\n`);
        }
      }
    });
}

/** --list: the plan's runs (or the selection's) without running anything: ids, or {index, id, dir} JSON lines. */
async function listRuns(spec: string, select: RunSelection, json: boolean): Promise<void> {
  const { runs } = await planExperiment(spec, { searchPaths: CLI_SEARCH_PATHS, builtinPlugins: BUILTIN_PLUGINS });
  for (const { index, run } of selectRuns(runs, select)) {
    process.stdout.write(json ? `${JSON.stringify({ index, id: run.id, dir: runDir(run) })}\n` : `${run.id}\n`);
  }
}
