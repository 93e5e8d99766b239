import { promises as fs } from 'node:fs';
import { RUN_FILES, RunFolder } from './run-folder';
import type { RunSummary } from './experiment';

/** What `bayes-peft collect` gathers: the summaries of the complete runs, and which runs are not. */
export interface CollectedResults {
  readonly complete: RunSummary[];
  readonly missing: { readonly index: number; readonly id: string; readonly dir: string }[];
}

interface ResultsJson {
  run?: string;
  wrapper?: string;
  dataset?: string;
  model?: string;
  seed?: number;
  metrics?: RunSummary['metrics'];
}

/**
 * The results of the runs `runs` (id and folder, in plan order) that are complete, read from
 * their results.json: whatever has finished on whichever machine, when the runs folder is shared.
 * A run is complete as `bayes-peft experiment` skips it: results.json and status.json complete.
 */
export async function collectResults(runs: readonly { readonly id: string; readonly dir: string }[]): Promise<CollectedResults> {
  const complete: RunSummary[] = [];
  const missing: CollectedResults['missing'][number][] = [];
  for (const [index, { id, dir }] of runs.entries()) {
    const folder = new RunFolder(dir);
    if (!(await folder.isComplete())) {
      missing.push({ index, id, dir });
      continue;
    }
    const results = JSON.parse(await fs.readFile(folder.file(RUN_FILES.results), 'utf8')) as ResultsJson;
    complete.push({
      id,
      dir,
      wrapper: String(results.wrapper),
      dataset: String(results.dataset),
      model: String(results.model),
      seed: Number(results.seed),
      metrics: results.metrics ?? {},
      skipped: 'complete',
    });
  }
  return { complete, missing };
}
