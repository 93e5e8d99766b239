import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HubChoices, Logger } from '@bayes-peft/core';
import { HubError, HubRepo, isHubId, resolveHubSettings } from '@bayes-peft/hub';
import { NliModelError } from './errors';

/** What an NLI model folder must hold besides the graph. */
export const NLI_REQUIRED_FILES = ['config.json', 'tokenizer.json'] as const;
/** Read when there (model_max_length, pad token). */
export const NLI_OPTIONAL_FILES = ['tokenizer_config.json', 'special_tokens_map.json'] as const;

/** Where the transformers.js/Optimum layouts put the graph, in the order they are tried. */
export function graphCandidates(choice: { quantized: boolean; onnxFile?: string }): string[] {
  if (choice.onnxFile) return [choice.onnxFile.replace(/^\.?\/+/, '')];
  return choice.quantized ? ['onnx/model_quantized.onnx', 'model_quantized.onnx'] : ['onnx/model.onnx', 'model.onnx'];
}

export interface NliModelRef {
  /** A local folder or a hub id, as the spec names it. */
  readonly model: string;
  readonly revision?: string;
  readonly quantized: boolean;
  readonly onnxFile?: string;
}

export interface NliModelFiles {
  /** The folder holding config.json and tokenizer.json (a hub cache snapshot for hub ids). */
  readonly dir: string;
  /** The ONNX graph's path. */
  readonly graph: string;
  /** How messages name the model: the absolute folder, or `hub id@revision`. */
  readonly where: string;
}

/**
 * The key a loaded model is shared under: the absolute folder, or the hub id with its revision,
 * cache and endpoint (so the same spec in two folders shares, and two caches do not).
 */
export function modelKey(ref: NliModelRef, specDir: string, hub: HubChoices): string {
  const local = localFolder(ref.model, specDir);
  const where = local.exists || !isHubId(ref.model) ? local.path : `hub:${ref.model}@${ref.revision ?? 'main'} ${hub.cacheDir ?? ''} ${hub.endpoint ?? ''}`;
  return JSON.stringify([where, graphCandidates(ref)]);
}

/**
 * A local folder (relative to the spec's folder, `~` expanded) when it exists, else a hub id
 * fetched into the hub cache (config.json, tokenizer.json, tokenizer_config.json and
 * special_tokens_map.json when there, and the graph), with the run's offline mode and endpoint.
 * A folder or repo without the graph is an error naming the files looked for and how to export one.
 */
export async function locateNliModel(ref: NliModelRef, options: { specDir: string; hub: HubChoices; log?: Logger }): Promise<NliModelFiles> {
  const local = localFolder(ref.model, options.specDir);
  if (local.exists) return checkLocal(local.path, ref);
  const looksLikePath = ref.model.startsWith('.') || ref.model.startsWith('~') || path.isAbsolute(ref.model) || ref.model.includes('\\');
  if (looksLikePath || !isHubId(ref.model)) throw new NliModelError(local.path, 'no such folder (and not a hub id of the form org/name)');
  return fetchFromHub(ref, options);
}

function localFolder(model: string, specDir: string): { path: string; exists: boolean } {
  const expanded = model === '~' || model.startsWith('~/') ? path.join(os.homedir(), model.slice(1)) : model;
  const p = path.resolve(specDir, expanded);
  return { path: p, exists: existsSync(p) };
}

async function checkLocal(dir: string, ref: NliModelRef): Promise<NliModelFiles> {
  const stat = await fs.stat(dir);
  if (!stat.isDirectory()) throw new NliModelError(dir, 'is a file; give the folder that holds config.json, tokenizer.json and onnx/model.onnx');
  for (const f of NLI_REQUIRED_FILES) {
    if (!existsSync(path.join(dir, f))) throw new NliModelError(dir, missingFileMessage(f, existsSync(path.join(dir, 'spm.model')) || existsSync(path.join(dir, 'tokenizer.model'))));
  }
  const candidates = graphCandidates(ref);
  const graph = candidates.map((c) => path.join(dir, c)).find((p) => existsSync(p));
  if (!graph) throw new NliModelError(dir, noGraphMessage(candidates, await onnxFilesIn(dir)));
  const rel = path.relative(dir, graph);
  if (existsSync(`${graph}_data`) || existsSync(`${graph}.data`)) throw new NliModelError(dir, externalDataMessage(rel));
  return { dir, graph, where: dir };
}

async function fetchFromHub(ref: NliModelRef, options: { hub: HubChoices; log?: Logger }): Promise<NliModelFiles> {
  const revision = ref.revision ?? 'main';
  const settings = resolveHubSettings({ ...options.hub, revision, log: options.log });
  const hub = new HubRepo(ref.model, 'model', settings);
  const where = `'${ref.model}' (revision ${revision})`;
  const commit = await hub.commit(revision);
  const candidates = graphCandidates(ref);
  let graphFile: string | undefined;
  if (hub.offline) {
    // No listing offline: what the cached snapshot holds (a missing required file is a HubOfflineError naming it).
    for (const f of NLI_REQUIRED_FILES) await hub.file(commit, f, { revision });
    for (const f of NLI_OPTIONAL_FILES) await hub.file(commit, f, { optional: true, revision });
    for (const c of candidates) if (!graphFile && (await hub.cache.cachedFile(commit, c))) graphFile = c;
    if (!graphFile) {
      const cached = (await hub.cache.listSnapshot(commit)).filter((p) => p.endsWith('.onnx'));
      throw new NliModelError(where, `${noGraphMessage(candidates, cached)} (offline: only the hub cache ${settings.cacheDir} was searched)`);
    }
  } else {
    const files = new Set((await hub.list(commit)).map((f) => f.path));
    for (const f of NLI_REQUIRED_FILES) {
      if (!files.has(f)) throw new NliModelError(where, missingFileMessage(f, files.has('spm.model') || files.has('tokenizer.model')));
    }
    graphFile = candidates.find((c) => files.has(c));
    if (!graphFile) throw new NliModelError(where, noGraphMessage(candidates, [...files].filter((f) => f.endsWith('.onnx'))));
    if (files.has(`${graphFile}_data`) || files.has(`${graphFile}.data`)) {
      throw new NliModelError(where, externalDataMessage(graphFile));
    }
    for (const f of NLI_REQUIRED_FILES) await hub.file(commit, f, { revision });
    for (const f of NLI_OPTIONAL_FILES) {
      if (files.has(f)) await hub.file(commit, f, { revision });
      else await hub.cache.markMissing(commit, f);
    }
  }
  let graph: string | null;
  try {
    graph = await hub.file(commit, graphFile, { revision });
  } catch (e) {
    if (e instanceof HubError) throw e;
    throw new NliModelError(where, `cannot fetch ${graphFile}: ${(e as Error).message}`);
  }
  settings.log.info(`  NLI model: ${ref.model} at ${commit.slice(0, 12)}, ${graphFile} (hub cache ${settings.cacheDir})`);
  return { dir: hub.cache.snapshotDir(commit), graph: graph!, where };
}

function missingFileMessage(file: string, hasSentencePiece: boolean): string {
  if (file === 'tokenizer.json') {
    return `has no tokenizer.json${hasSentencePiece ? ' (only the SentencePiece model; save the fast tokenizer: AutoTokenizer.from_pretrained(<id>).save_pretrained(<dir>))' : ''}`;
  }
  return `has no ${file}`;
}

/** The graph is read into memory and handed to onnxruntime as bytes, so weights kept beside it cannot be found. */
function externalDataMessage(graphFile: string): string {
  return `${graphFile} keeps its weights in a separate file (ONNX external data), which this scorer does not load; use a single-file export (under 2 GB) or a quantized one (quantized: true)`;
}

/** Which graph files were looked for, the other .onnx files there are, and how to make one. */
function noGraphMessage(candidates: readonly string[], present: readonly string[]): string {
  const others = present.length ? `; it has ${present.slice(0, 6).join(', ')} (choose one with onnxFile)` : '';
  return (
    `no ONNX graph: looked for ${candidates.join(' and ')}${others}. ` +
    'Export the model with Optimum: optimum-cli export onnx --model <id> --task text-classification <dir> ' +
    '(or use an ONNX repo such as Xenova/nli-deberta-v3-base)'
  );
}

async function onnxFilesIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of ['', 'onnx']) {
    const entries = await fs.readdir(path.join(dir, sub)).catch(() => [] as string[]);
    for (const e of entries) if (e.endsWith('.onnx')) out.push(sub ? `${sub}/${e}` : e);
  }
  return out;
}
