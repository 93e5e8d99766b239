import { existsSync, promises as fs, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HubError, HubOfflineError } from './errors';
import { HubRepo } from './repo';
import { resolveHubSettings, type HubOptions } from './settings';

/** Files a model folder needs besides its weights. */
export const MODEL_REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;
/** Fetched when the repo has them. */
export const MODEL_OPTIONAL_FILES = ['generation_config.json', 'special_tokens_map.json', 'chat_template.jinja', 'chat_template.json'] as const;
export const SAFETENSORS_SINGLE = 'model.safetensors';
export const SAFETENSORS_INDEX = 'model.safetensors.index.json';

const HUB_ID_RE = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

/** `org/name` (or `name`) that is not an existing local path and does not look like one. */
export function isHubId(ref: string): boolean {
  if (!HUB_ID_RE.test(ref) || ref.includes('..') || ref.endsWith('.')) return false;
  return !existsSync(ref);
}

/** Whether a reference names a local path: absolute, `./`, `../`, `~/`, or an existing file/folder. */
export function isLocalPath(ref: string): boolean {
  return path.isAbsolute(ref) || /^\.{1,2}([/\\]|$)/.test(ref) || ref.startsWith('~/') || existsSync(ref) || !HUB_ID_RE.test(ref);
}

export function expandHome(p: string): string {
  return p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

/**
 * A local model folder as-is, or a hub model id downloaded (config.json, tokenizer files,
 * generation config, safetensors or the index and its shards) into the cache; returns the folder
 * to load from (the cache's snapshot folder for hub ids).
 */
export async function resolveModelDir(ref: string, options: HubOptions = {}): Promise<string> {
  if (!isHubId(ref)) {
    const local = expandHome(ref);
    let stat;
    try {
      stat = statSync(local);
    } catch {
      throw new HubError(`model '${ref}': no such local folder (and not a hub id of the form org/name)`);
    }
    if (!stat.isDirectory()) throw new HubError(`model '${ref}' is a file; give the folder that holds config.json and the weights`);
    return ref;
  }
  const settings = resolveHubSettings(options);
  const hub = new HubRepo(ref, 'model', settings);
  const revision = settings.revision;
  const commit = await hub.commit(revision);

  if (hub.offline) {
    // Offline: no listing of the repo, so take what the snapshot holds and name what is missing.
    for (const f of MODEL_REQUIRED_FILES) {
      if (!(await hub.cache.knownMissing(commit, f))) await hub.file(commit, f, { revision });
    }
    for (const f of MODEL_OPTIONAL_FILES) await hub.file(commit, f, { optional: true, revision });
    const single = await hub.cache.cachedFile(commit, SAFETENSORS_SINGLE);
    if (!single) {
      const index = await hub.cache.cachedFile(commit, SAFETENSORS_INDEX);
      if (!index) {
        throw new HubOfflineError(ref, 'model', SAFETENSORS_SINGLE, revision, settings.cacheDir, hub.offlineReason ?? 'offline', `file '${SAFETENSORS_SINGLE}' (or '${SAFETENSORS_INDEX}')`);
      }
      for (const shard of await shardsOf(index)) await hub.file(commit, shard, { revision });
    }
    return hub.cache.snapshotDir(commit);
  }

  const files = new Set((await hub.list(commit)).map((f) => f.path));
  for (const f of MODEL_REQUIRED_FILES) {
    if (files.has(f)) continue;
    if (f === 'tokenizer_config.json') {
      settings.log.warn(`hub: model '${ref}' has no tokenizer_config.json; tokenizer defaults apply`);
      await hub.cache.markMissing(commit, f);
      continue;
    }
    const hint = f === 'tokenizer.json' && files.has('tokenizer.model') ? ' (it has only the SentencePiece tokenizer.model; bayes-peft needs the fast tokenizer.json)' : '';
    throw new HubError(`model '${ref}' (revision ${revision}) has no ${f}${hint}`);
  }
  for (const f of MODEL_REQUIRED_FILES) if (files.has(f)) await hub.file(commit, f, { revision });
  for (const f of MODEL_OPTIONAL_FILES) {
    if (files.has(f)) await hub.file(commit, f, { revision });
    else await hub.cache.markMissing(commit, f);
  }
  if (files.has(SAFETENSORS_SINGLE)) {
    await hub.file(commit, SAFETENSORS_SINGLE, { revision });
  } else if (files.has(SAFETENSORS_INDEX)) {
    const index = (await hub.file(commit, SAFETENSORS_INDEX, { revision }))!;
    for (const shard of await shardsOf(index)) {
      if (!files.has(shard)) throw new HubError(`model '${ref}': ${SAFETENSORS_INDEX} names shard '${shard}', which the repo lacks`);
      await hub.file(commit, shard, { revision });
    }
  } else {
    const other = [...files].filter((f) => /\.(bin|pt|pth|gguf|ckpt|h5|msgpack)$/.test(f));
    throw new HubError(
      `model '${ref}' (revision ${revision}) has no safetensors weights (${SAFETENSORS_SINGLE} or ${SAFETENSORS_INDEX})` +
        (other.length ? `; it has ${other.slice(0, 3).join(', ')}: convert them to safetensors first` : ''),
    );
  }
  return hub.cache.snapshotDir(commit);
}

async function shardsOf(indexFile: string): Promise<string[]> {
  let weightMap: unknown;
  try {
    weightMap = JSON.parse(await fs.readFile(indexFile, 'utf8')).weight_map;
  } catch (e) {
    throw new HubError(`${indexFile}: corrupt safetensors index (${(e as Error).message})`);
  }
  if (!weightMap || typeof weightMap !== 'object') throw new HubError(`${indexFile}: safetensors index has no weight_map`);
  return [...new Set(Object.values(weightMap as Record<string, string>))].sort();
}
