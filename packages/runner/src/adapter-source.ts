import * as path from 'node:path';
import type { HubChoices, Logger } from '@bayes-peft/core';
import { HubError, HubRepo, resolveHubSettings } from '@bayes-peft/hub';
import type { RunSpec } from './spec/schema';

/** The run spec's `adapter:`: a local folder (relative to the spec), or a hub repository with an optional subfolder and revision. */
export type AdapterSource = NonNullable<RunSpec['adapter']>;

/** The files of a PEFT adapter folder (lora's peft-format.ts): the two it needs, and ours when there. */
const REQUIRED = ['adapter_config.json', 'adapter_model.safetensors'] as const;
const OPTIONAL = ['bayes_peft.json'] as const;
const ADAPTER_FILES = new Set<string>([...REQUIRED, ...OPTIONAL]);

/**
 * The local folder to load the spec's adapter from. A string is a folder relative to the spec's
 * folder (as before). `{ repo, subfolder?, revision? }` is the reference's
 * `--load-lora-huggingface-repo` with `--load-lora-path` as the subfolder: the adapter's files are
 * fetched into the hub cache (the same cache, offline mode and endpoint as models) and the
 * subfolder of the cached snapshot is returned. Fetched: adapter_config.json and
 * adapter_model.safetensors (required), bayes_peft.json when the repo has it, and the same files
 * one folder down (a deep ensemble's members, `adapter_<m>/`).
 */
export async function resolveAdapterDir(adapter: AdapterSource, options: { specDir: string; hub: HubChoices; log?: Logger }): Promise<string> {
  if (typeof adapter === 'string') return path.resolve(options.specDir, adapter);
  const revision = adapter.revision ?? 'main';
  const settings = resolveHubSettings({ ...options.hub, revision, log: options.log });
  const hub = new HubRepo(adapter.repo, 'model', settings);
  const subfolder = (adapter.subfolder ?? '').replace(/^\/+|\/+$/g, '');
  const prefix = subfolder ? `${subfolder}/` : '';
  const where = `adapter repo '${adapter.repo}'${subfolder ? ` subfolder '${subfolder}'` : ''} (revision ${revision})`;
  const commit = await hub.commit(revision);
  // Online: the hub's listing; offline: what the cached snapshot holds.
  const listed = (await hub.list(commit)).map((f) => f.path).filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length));
  for (const file of REQUIRED) {
    if (!hub.offline && !listed.includes(file)) throw new HubError(`${where} has no ${file}${folderHint(listed)}`);
    // Offline and not cached: a HubOfflineError naming the repo and the file.
    await hub.file(commit, prefix + file, { revision });
  }
  for (const file of OPTIONAL) {
    if (hub.offline || listed.includes(file)) await hub.file(commit, prefix + file, { optional: true, revision });
  }
  const nested = listed.filter((p) => /^[^/]+\/[^/]+$/.test(p) && ADAPTER_FILES.has(p.split('/')[1]));
  for (const file of nested) await hub.file(commit, prefix + file, { revision });
  settings.log.info(`  adapter: ${adapter.repo}${subfolder ? `/${subfolder}` : ''} at ${commit.slice(0, 12)} (hub cache ${settings.cacheDir})`);
  return path.join(hub.cache.snapshotDir(commit), subfolder);
}

/** When the files are one level down, the subfolders that hold an adapter. */
function folderHint(listed: readonly string[]): string {
  const folders = [...new Set(listed.filter((p) => p.endsWith('/adapter_config.json')).map((p) => p.slice(0, -'/adapter_config.json'.length)))].sort();
  return folders.length ? `; set adapter.subfolder to one of: ${folders.slice(0, 8).join(', ')}${folders.length > 8 ? ', ...' : ''}` : '';
}
