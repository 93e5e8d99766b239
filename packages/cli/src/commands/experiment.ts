import { Command } from 'commander';
import { runExperiment, summaryTable } from '@bayes-peft/runner';
import { BUILTIN_PLUGINS } from '../builtin-plugins';
import { CLI_SEARCH_PATHS } from '../search-paths';

export function experimentCommand(): Command {
  return new Command('experiment')
    .description('run every run of a YAML run spec (a matrix expands to several) and print a metrics table')
    .argument('<spec>', 'run spec (YAML)')
    .option('--force', 'rerun runs whose folder is already complete', false)
    .option('--no-progress', 'plain log lines instead of progress bars')
    .option('--json', 'print the run summaries as JSON lines instead of a table', false)
    .action(async (spec: string, opts: { force: boolean; progress: boolean; json: boolean }) => {
      // First Ctrl-C: finish the current step, checkpoint, exit (the same command resumes).
      // A second one exits at once.
      const controller = new AbortController();
      const onSigint = () => {
        if (controller.signal.aborted) process.exit(130);
        process.stderr.write('\ninterrupting after the current step (Ctrl-C again to quit now)\n');
        controller.abort();
      };
      process.on('SIGINT', onSigint);
      let runs;
      try {
        runs = await runExperiment(spec, { force: opts.force, progress: opts.progress, searchPaths: CLI_SEARCH_PATHS, builtinPlugins: BUILTIN_PLUGINS, signal: controller.signal });
      } finally {
        process.off('SIGINT', onSigint);
      }
      if (opts.json) for (const r of runs) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(`\n${summaryTable(runs)}\n`);
    });
}
