import { Command } from 'commander';
import { parseJsonObject } from './json-option';
import { formatMetrics, rescoreRun } from '@bayes-peft/runner';
import { BUILTIN_PLUGINS } from '../builtin-plugins';
import { CLI_SEARCH_PATHS } from '../search-paths';

export function rescoreCommand(): Command {
  return new Command('rescore')
    .description("score a finished open-ended run's generations again with another scorer (no model, no generating): new results and predictions files next to the run's own")
    .argument('<run>', 'run folder (runs/<name>/<run id>)')
    .requiredOption('--scorer <plugin>', 'judge plugin: short name (string-match, nli), npm package or path')
    .option('--options <json>', "the scorer's options as JSON, e.g. '{\"mode\": \"exact\"}' (relative paths from the working directory)", parseJsonObject, {})
    .option('--out <file>', 'results file (default <run>/results.<scorer>.json; predictions go to predictions.<scorer>.jsonl, or <name>.predictions.jsonl beside another name)')
    .option('--no-progress', 'plain log lines instead of progress bars')
    .option('--json', 'print {"resultsFile", "predictionsFile", "metrics"} instead of the metrics line', false)
    .action(async (run: string, opts: { scorer: string; options: Record<string, unknown>; out?: string; progress: boolean; json: boolean }) => {
      const got = await rescoreRun(run, {
        scorer: opts.scorer,
        scorerOptions: opts.options,
        ...(opts.out ? { out: opts.out } : {}),
        progress: opts.progress,
        searchPaths: CLI_SEARCH_PATHS,
        builtinPlugins: BUILTIN_PLUGINS,
      });
      if (opts.json) process.stdout.write(`${JSON.stringify(got)}\n`);
      else process.stdout.write(`${formatMetrics(got.metrics)}\n  -> ${got.resultsFile}\n  -> ${got.predictionsFile}\n`);
    });
}
