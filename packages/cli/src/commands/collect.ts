import * as path from 'node:path';
import { Command } from 'commander';
import { collectResults, resultsCsv, summaryTable } from '@bayes-peft/runner';
import { writeFileAtomic } from '@bayes-peft/tensor';
import { specRuns } from './spec-runs';

export function collectCommand(): Command {
  // exitOverride: a bad option is a CommanderError main() turns into the exit code (addCommand does not pass the program's on).
  return new Command('collect')
    .exitOverride()
    .description("the summary table of a spec's complete runs (from their results.json, wherever they ran), how many are missing, and optionally a CSV of every run's metrics")
    .argument('<spec>', 'run spec (YAML)')
    .option('--csv <file>', 'write one row per complete run: id, wrapper, dataset, model, seed and every metric')
    .action(async (spec: string, opts: { csv?: string }) => {
      const runs = await specRuns(spec);
      const { complete, missing } = await collectResults(runs);
      if (complete.length) process.stdout.write(`${summaryTable(complete)}\n`);
      const shown = missing.slice(0, 10).map((m) => m.id);
      const more = missing.length > shown.length ? `, ... (\`bayes-peft status\` lists every one)` : '';
      process.stderr.write(
        missing.length
          ? `${complete.length} of ${runs.length} runs complete; ${missing.length} missing: ${shown.join(', ')}${more}\n`
          : `all ${runs.length} runs complete\n`,
      );
      if (opts.csv) {
        // Atomic: a spreadsheet or a script reading the file never sees half of it.
        await writeFileAtomic(path.resolve(opts.csv), resultsCsv(complete));
        process.stderr.write(`wrote ${complete.length} row${complete.length === 1 ? '' : 's'} to ${opts.csv}\n`);
      }
    });
}
