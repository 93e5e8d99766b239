import { Command } from 'commander';
import { planExperiment } from '@bayes-peft/runner';
import { BUILTIN_PLUGINS } from '../builtin-plugins';
import { CLI_SEARCH_PATHS } from '../search-paths';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check a run spec and every plugin option without running anything')
    .argument('<spec>', 'run spec (YAML)')
    .action(async (spec: string) => {
      const { loaded, runs } = await planExperiment(spec, { searchPaths: CLI_SEARCH_PATHS, builtinPlugins: BUILTIN_PLUGINS });
      process.stdout.write(`${loaded.file}: valid, ${runs.length} run${runs.length === 1 ? '' : 's'}\n`);
      for (const r of runs) process.stdout.write(`  ${r.id}  (${r.spec.output}/${r.spec.name}/${r.id})\n`);
    });
}
