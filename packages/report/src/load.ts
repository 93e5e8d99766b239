import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** One complete run folder as the report reads it. */
export interface LoadedRun {
  readonly dir: string;
  readonly id: string;
  readonly wrapper: string;
  readonly dataset: string;
  readonly seed: number;
  readonly metrics: Record<string, number>;
  readonly results: Record<string, unknown>;
  /** 'mcq' when predictions.jsonl rows have probs, 'open' when they have correct_fraction. */
  readonly kind: 'mcq' | 'open' | 'none';
  readonly predictions: Record<string, unknown>[];
  /** metrics.jsonl rows (train, eval, calibrate, calibrated, final). */
  readonly log: Record<string, unknown>[];
}

async function readJsonl(file: string): Promise<Record<string, unknown>[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return [];
  }
  const rows: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      rows.push(JSON.parse(line));
    } catch {
      // a line cut by a crash (appendJsonl loses at most the last one): skipped
    }
  }
  return rows;
}

/** Every folder under `root` (itself included) holding results.json, sorted by path. */
export async function findRunDirs(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.isFile() && e.name === 'results.json')) out.push(dir);
    for (const e of entries) if (e.isDirectory() && e.name !== 'adapter' && !e.name.startsWith('.')) await walk(path.join(dir, e.name));
  }
  await walk(root);
  return out.sort();
}

/** Reads the complete runs among `dirs` (status.json says complete and results.json parses); the others are skipped. */
export async function loadRuns(dirs: readonly string[]): Promise<LoadedRun[]> {
  const runs: LoadedRun[] = [];
  for (const dir of dirs) {
    let results: Record<string, unknown>;
    try {
      const status = JSON.parse(await fs.readFile(path.join(dir, 'status.json'), 'utf8'));
      if (status.state !== 'complete') continue;
      results = JSON.parse(await fs.readFile(path.join(dir, 'results.json'), 'utf8'));
    } catch {
      continue;
    }
    const predictions = await readJsonl(path.join(dir, 'predictions.jsonl'));
    const first = predictions[0];
    const kind = first && Array.isArray(first.probs) ? 'mcq' : first && typeof first.correct_fraction === 'number' ? 'open' : 'none';
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries((results.metrics ?? {}) as Record<string, unknown>)) if (typeof v === 'number') metrics[k] = v;
    runs.push({
      dir,
      id: String(results.id ?? results.run ?? path.basename(dir)),
      wrapper: String(results.wrapper ?? '?'),
      dataset: String(results.dataset ?? '?'),
      seed: Number(results.seed ?? 0),
      metrics,
      results,
      kind,
      predictions,
      log: await readJsonl(path.join(dir, 'metrics.jsonl')),
    });
  }
  return runs;
}
