// Which files of a dataset repo (or a local folder) hold one split of one config. Pure functions
// over path lists, so the hub listing, a cached snapshot and a local folder share one lookup.
import { parse as parseYaml } from 'yaml';

/** Row file formats, most preferred first: when a split exists in several, the first wins. */
export const DATA_EXTENSIONS = ['.parquet', '.jsonl', '.ndjson', '.json', '.csv'] as const;

const SPLIT_ALIASES: Record<string, string[]> = {
  validation: ['valid', 'val', 'dev'],
  test: ['testing'],
  train: ['training'],
};

/** One `configs:` entry of a dataset card's YAML header. */
export interface CardConfig {
  readonly name: string;
  readonly isDefault: boolean;
  /** split -> glob patterns relative to the repo root. */
  readonly dataFiles: Readonly<Record<string, readonly string[]>>;
}

export interface SplitQuery {
  /** Config (subset) name, e.g. `ARC-Challenge`; optional when the dataset has one. */
  readonly config?: string;
  readonly split: string;
}

export interface SplitPick {
  readonly files: string[];
  /** Why nothing matched, for error messages. */
  readonly why?: string;
}

export function dataExtension(file: string): (typeof DATA_EXTENSIONS)[number] | null {
  const lower = file.toLowerCase();
  return DATA_EXTENSIONS.find((e) => lower.endsWith(e)) ?? null;
}

/** The `configs:` of a dataset card (README.md with a YAML header), or null when it has none. */
export function parseCardConfigs(readme: string): CardConfig[] | null {
  const m = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---\s*(\r?\n|$)/.exec(readme);
  if (!m) return null;
  let meta: unknown;
  try {
    meta = parseYaml(m[1]);
  } catch {
    return null;
  }
  const configs = (meta as { configs?: unknown })?.configs;
  if (!Array.isArray(configs)) return null;
  const out: CardConfig[] = [];
  for (const c of configs) {
    if (!c || typeof c !== 'object') continue;
    const rec = c as { config_name?: unknown; default?: unknown; data_files?: unknown; data_dir?: unknown };
    const name = typeof rec.config_name === 'string' ? rec.config_name : 'default';
    const dataFiles: Record<string, string[]> = {};
    const add = (split: string, p: unknown) => {
      const list = Array.isArray(p) ? p : [p];
      for (const item of list) if (typeof item === 'string') (dataFiles[split] ??= []).push(item);
    };
    const df = rec.data_files;
    if (typeof df === 'string') add('train', df);
    else if (Array.isArray(df)) {
      for (const item of df) {
        if (typeof item === 'string') add('train', item);
        else if (item && typeof item === 'object' && typeof (item as { split?: unknown }).split === 'string') {
          add((item as { split: string }).split, (item as { path?: unknown }).path);
        }
      }
    } else if (df && typeof df === 'object') {
      for (const [split, p] of Object.entries(df)) add(split, p);
    } else if (typeof rec.data_dir === 'string') {
      // data_dir alone: the split heuristics below apply inside that folder.
      dataFiles['*'] = [`${rec.data_dir.replace(/\/+$/, '')}/**`];
    }
    out.push({ name, isDefault: rec.default === true, dataFiles });
  }
  return out.length ? out : null;
}

/** fsspec-style glob (`*` within a segment, `**` across segments, `?`) to a RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  const g = glob.replace(/^\.?\//, '');
  for (let i = 0; i < g.length; i++) {
    const c = g[i];
    if (c === '*') {
      if (g[i + 1] === '*') {
        if (g[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * The files of `query.split` among `paths` (repo-relative, `/`-separated). With dataset-card
 * configs, their data_files globs decide; otherwise folder and file names do, the way the hub's
 * own split detection reads them (`<config>/train-00000-of-00001.parquet`, `data/train.jsonl`,
 * `train/0000.parquet`, `<name>-validation.parquet`, ...).
 */
export function pickSplitFiles(paths: readonly string[], query: SplitQuery, card?: CardConfig[] | null): SplitPick {
  const dataPaths = paths.filter((p) => dataExtension(p) !== null && !p.split('/').some((s) => s.startsWith('.')));
  if (card && card.length) {
    const cfg = chooseCardConfig(card, query.config);
    if ('why' in cfg) return { files: [], why: cfg.why };
    const patterns = cfg.config.dataFiles[query.split] ?? aliasesOf(query.split).map((a) => cfg.config.dataFiles[a]).find(Boolean);
    if (patterns) {
      const res = patterns.map(globToRegExp);
      return { files: preferOneFormat(dataPaths.filter((p) => res.some((r) => r.test(p)))) };
    }
    const dir = cfg.config.dataFiles['*'];
    if (dir) {
      const r = globToRegExp(dir[0]);
      return pickByName(dataPaths.filter((p) => r.test(p)), query.split);
    }
    return { files: [], why: `config '${cfg.config.name}' has splits ${Object.keys(cfg.config.dataFiles).join(', ')}, not '${query.split}'` };
  }
  let scoped = dataPaths;
  if (query.config && query.config !== 'default') {
    scoped = dataPaths.filter((p) => p.split('/').slice(0, -1).includes(query.config!));
    if (!scoped.length) {
      const ci = query.config.toLowerCase();
      scoped = dataPaths.filter((p) => p.split('/').slice(0, -1).some((s) => s.toLowerCase() === ci));
    }
    if (!scoped.length) {
      const dirs = [...new Set(dataPaths.filter((p) => p.includes('/')).map((p) => p.split('/')[0]))];
      return { files: [], why: `no folder named '${query.config}'${dirs.length ? ` (folders with data: ${dirs.join(', ')})` : ''}` };
    }
  }
  const pick = pickByName(scoped, query.split);
  if (query.config && query.config !== 'default') return pick;
  // No config named: files of several top-level folders (configs) would mix; take `default` or ask.
  const groups = new Set(pick.files.map((p) => (p.includes('/') ? p.split('/')[0] : '')));
  if (groups.size <= 1) return pick;
  if (groups.has('default')) return { files: pick.files.filter((p) => p.startsWith('default/')) };
  return { files: [], why: `split '${query.split}' exists in several folders (configs?): ${[...groups].map((g) => g || '(top level)').join(', ')}; choose a config` };
}

function chooseCardConfig(card: CardConfig[], name: string | undefined): { config: CardConfig } | { why: string } {
  if (name) {
    const hit = card.find((c) => c.name === name) ?? card.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (hit) return { config: hit };
    return { why: `the dataset card has no config '${name}' (configs: ${card.map((c) => c.name).join(', ')})` };
  }
  const def = card.find((c) => c.isDefault) ?? card.find((c) => c.name === 'default') ?? (card.length === 1 ? card[0] : undefined);
  if (def) return { config: def };
  return { why: `the dataset has several configs (${card.map((c) => c.name).join(', ')}): choose one` };
}

function aliasesOf(split: string): string[] {
  return SPLIT_ALIASES[split] ?? [];
}

function pickByName(paths: readonly string[], split: string): SplitPick {
  for (const name of [split, ...aliasesOf(split)]) {
    const files = paths.filter((p) => matchesSplit(p, name));
    if (files.length) return { files: preferOneFormat(files) };
  }
  const sample = paths.slice(0, 8).join(', ');
  return { files: [], why: paths.length ? `no file or folder named after split '${split}' among ${sample}${paths.length > 8 ? ', ...' : ''}` : 'no .parquet/.jsonl/.json/.csv files' };
}

function matchesSplit(p: string, split: string): boolean {
  const segs = p.split('/');
  const dirs = segs.slice(0, -1);
  if (dirs.some((d) => d === split || d === `partial-${split}`)) return true;
  const stem = stemOf(segs[segs.length - 1]);
  const s = escapeRe(split);
  // `train`, `train-00000-of-00001`, `train.0`, `ai2_arc-train`, `x_train`, but not `train_xs`.
  return new RegExp(`^(?:.*[-_.])?${s}(?:[-.0-9].*)?$`).test(stem);
}

function stemOf(file: string): string {
  const ext = dataExtension(file);
  return ext ? file.slice(0, file.length - ext.length) : file;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One format per split: a repo holding train.jsonl and train.parquet would otherwise double the rows. */
function preferOneFormat(files: string[]): string[] {
  for (const ext of DATA_EXTENSIONS) {
    const hit = files.filter((f) => dataExtension(f) === ext);
    if (hit.length) return hit.sort();
  }
  return [];
}
