import { Command } from 'commander';
import { runExperiment, summaryTable } from '@bayes-peft/core';
import { CLI_SEARCH_PATHS } from '../search-paths';

export function experimentCommand(): Command {
  return new Command('experiment')
    .description('run every run of a YAML run spec (a matrix expands to several) and print a metrics table')
    .argument('<spec>', 'run spec (YAML)')
    .option('--force', 'rerun runs whose folder is already complete', false)
    .option('--no-progress', 'plain log lines instead of progress bars')
    .option('--json', 'print the run summaries as JSON lines instead of a table', false)
    .action(async (spec: string, opts: { force: boolean; progress: boolean; json: boolean }) => {
      const runs = await runExperiment(spec, { force: opts.force, progress: opts.progress, searchPaths: CLI_SEARCH_PATHS });
      if (opts.json) for (const r of runs) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(`\n${summaryTable(runs)}\n`);
    });
}
