import { planExperiment, runDir } from '@bayes-peft/runner';
import { BUILTIN_PLUGINS } from '../builtin-plugins';
import { CLI_SEARCH_PATHS } from '../search-paths';

/** A spec's runs in plan order with their folders: what status, collect and submit address runs by. */
export async function specRuns(spec: string): Promise<{ index: number; id: string; dir: string; steps: number }[]> {
  const { runs } = await planExperiment(spec, { searchPaths: CLI_SEARCH_PATHS, builtinPlugins: BUILTIN_PLUGINS });
  return runs.map((run, index) => ({ index, id: run.id, dir: runDir(run), steps: run.spec.train.steps }));
}
