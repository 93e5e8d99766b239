import { promises as fs } from 'node:fs';
import { HubApiError } from '@huggingface/hub';
import { HubError, HubOfflineError } from './errors';
import { HubRepo } from './repo';
import { resolveHubSettings, type HubOptions } from './settings';
import { parseCardConfigs, pickSplitFiles, type SplitPick } from './splits';

/** The branch where the hub keeps its automatic parquet conversion of every dataset. */
export const PARQUET_CONVERSION_REVISION = 'refs/convert/parquet';

export interface DatasetFiles {
  /** Local paths (in the cache) of the split's row files, sorted. */
  readonly files: string[];
  /** Repo-relative paths of the same files. */
  readonly repoPaths: string[];
  readonly revision: string;
  readonly commit: string;
}

/**
 * The local files holding one split of a hub dataset, downloaded into the cache.
 *
 * Lookup, in order: the requested revision (default `main`) by its dataset card's `configs:`
 * (data_files globs per split), else by folder and file names (`<config>/<split>-*.parquet`,
 * `data/<split>.jsonl`, ...); when that revision has no row files for the split (script-based
 * datasets), the hub's parquet conversion branch `refs/convert/parquet`
 * (`<config>/<split>/0000.parquet`). Offline, the same lookup runs over the cached snapshots.
 */
export async function resolveDatasetFiles(repo: string, config: string | undefined, split: string, options: HubOptions = {}): Promise<string[]> {
  return (await resolveDatasetSplit(repo, config, split, options)).files;
}

export async function resolveDatasetSplit(repo: string, config: string | undefined, split: string, options: HubOptions = {}): Promise<DatasetFiles> {
  const settings = resolveHubSettings(options);
  const hub = new HubRepo(repo, 'dataset', settings);
  const what = `dataset '${repo}'${config ? ` config '${config}'` : ''} split '${split}'`;
  const tried: string[] = [];

  const attempt = async (revision: string, defaultConfig?: string): Promise<DatasetFiles | null> => {
    let commit: string;
    try {
      commit = await hub.commit(revision);
    } catch (e) {
      // The conversion branch may not exist (or not be cached): that is a miss, not a failure.
      if (revision === PARQUET_CONVERSION_REVISION && (e instanceof HubOfflineError || isNotFound(e))) {
        tried.push(`${revision}: ${hub.offline ? 'not cached' : 'absent'}`);
        return null;
      }
      throw e;
    }
    const paths = (await hub.list(commit)).map((f) => f.path);
    let card = null;
    if (revision !== PARQUET_CONVERSION_REVISION && paths.includes('README.md')) {
      const readme = await hub.file(commit, 'README.md', { optional: true, revision });
      if (readme) card = parseCardConfigs(await fs.readFile(readme, 'utf8'));
    }
    const pick: SplitPick = pickSplitFiles(paths, { config: config ?? defaultConfig, split }, card);
    if (!pick.files.length) {
      tried.push(`${revision}${hub.offline ? ' (cached)' : ''}: ${pick.why ?? 'no match'}`);
      return null;
    }
    const files: string[] = [];
    for (const p of pick.files) files.push((await hub.file(commit, p, { revision }))!);
    return { files, repoPaths: pick.files, revision, commit };
  };

  const first = await attempt(settings.revision);
  if (first) return first;
  if (settings.revision !== PARQUET_CONVERSION_REVISION) {
    const converted = await attempt(PARQUET_CONVERSION_REVISION, 'default');
    if (converted) {
      settings.log.info(`hub: ${what}: using the hub's parquet conversion (${PARQUET_CONVERSION_REVISION})`);
      return converted;
    }
  }
  const detail = tried.map((t) => `  - ${t}`).join('\n');
  if (hub.offline) {
    throw new HubError(
      `offline mode (${hub.offlineReason}): no cached files for ${what} in ${hub.cache.root}\n${detail}\n` +
        'Run once with network access to fill the cache, turn offline mode off, or give a local folder as the source.',
    );
  }
  throw new HubError(`cannot find the row files of ${what}:\n${detail}`);
}

function isNotFound(e: unknown): boolean {
  if (e instanceof HubApiError) return e.statusCode === 404;
  return e instanceof HubError && /HTTP 404/.test(e.message);
}
