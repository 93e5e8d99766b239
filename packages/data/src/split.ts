import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { expandHome, isHubId, pickSplitFiles, resolveDatasetFiles, type HubOptions } from '@bayes-peft/hub';
import { UserError } from '@bayes-peft/core';
import { EmptySplitError } from './errors';
import { readRows, rowFormatOf, type DataRow } from './read';

export interface SplitSource {
  /**
   * Where the rows are: a local file, a local folder (holding `<split>.jsonl|.json|.parquet|.csv`,
   * `<split>/`, `<config>/<split>-*.parquet`, ...), a path template with `{split}` / `{config}`,
   * a list of those, or a hub dataset id. Defaults to `repo`.
   */
  readonly source?: string | readonly string[];
  /** The dataset's hub id (`allenai/ai2_arc`), used when `source` is absent. */
  readonly repo?: string;
  /** Hub config (subset) name, e.g. `ARC-Challenge`. */
  readonly config?: string;
  readonly split: string;
  /** Folder that relative local paths are resolved against (the run spec's folder). */
  readonly baseDir?: string;
}

/** Rows of one split, plus the files they came from. */
export interface SplitRows {
  readonly rows: DataRow[];
  readonly files: string[];
}

/**
 * Reads one split from local files or a hub dataset; an empty split is an error (EmptySplitError).
 * Local folders use the hub's split-file rules; hub ids go through @bayes-peft/hub (cache,
 * offline mode, parquet conversion fallback).
 */
export async function loadSplitRows(spec: SplitSource, hubOptions: HubOptions = {}): Promise<DataRow[]> {
  return (await loadSplit(spec, hubOptions)).rows;
}

export async function loadSplit(spec: SplitSource, hubOptions: HubOptions = {}): Promise<SplitRows> {
  const refs = spec.source === undefined ? (spec.repo ? [spec.repo] : []) : typeof spec.source === 'string' ? [spec.source] : [...spec.source];
  if (!refs.length) throw new UserError(`split '${spec.split}': no source (a local file or folder) and no hub repo given`);
  const what = `split '${spec.split}'${spec.config ? ` of config '${spec.config}'` : ''} from ${refs.join(', ')}`;
  const files: string[] = [];
  for (const ref of refs) files.push(...(await filesOf(ref, spec, hubOptions)));
  const rows: DataRow[] = [];
  for (const f of files) for (const r of await readRows(f)) rows.push(r);
  if (!rows.length) throw new EmptySplitError(what, files);
  return { rows, files };
}

async function filesOf(ref: string, spec: SplitSource, hubOptions: HubOptions): Promise<string[]> {
  const expanded = expandHome(ref.replaceAll('{split}', spec.split).replaceAll('{config}', spec.config ?? 'default'));
  const local = spec.baseDir && !path.isAbsolute(expanded) ? path.resolve(spec.baseDir, expanded) : expanded;
  const stat = await fs.stat(local).catch(() => null);
  if (stat?.isFile()) {
    if (!rowFormatOf(local)) throw new UserError(`dataset source '${ref}' is not a .jsonl/.json/.parquet/.csv file`);
    return [local];
  }
  if (stat?.isDirectory()) {
    const paths = await listFolder(local);
    let pick = pickSplitFiles(paths, { config: spec.config, split: spec.split });
    // A folder of one config's files (`data/arc_easy/validation.jsonl`) has no config subfolder.
    if (!pick.files.length && spec.config) pick = pickSplitFiles(paths, { split: spec.split });
    if (!pick.files.length) throw new UserError(`dataset folder '${local}': no files for split '${spec.split}'${spec.config ? ` (config '${spec.config}')` : ''}: ${pick.why ?? ''}`);
    return pick.files.map((p) => path.join(local, ...p.split('/')));
  }
  if (ref !== expanded || !isHubId(ref)) {
    throw new UserError(`dataset source '${local}': no such file or folder${spec.baseDir ? ` (relative to ${spec.baseDir})` : ''}, and not a hub dataset id (org/name)`);
  }
  return resolveDatasetFiles(ref, spec.config, spec.split, hubOptions);
}

async function listFolder(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, prefix: string, depth: number) => {
    if (depth > 4) return;
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(dir, e.name), rel, depth + 1);
      else out.push(rel);
    }
  };
  await walk(root, '', 0);
  return out.sort();
}
