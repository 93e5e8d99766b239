import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HubSettings, Logger } from '@bayes-peft/core';
import { isHubId, resolveModelDir } from '@bayes-peft/hub';
import { initBackend } from '@bayes-peft/tensor';
import { readConfig } from './config';
import { ModelLoadError } from './errors';
import { CausalLm } from './model';
import { HfTokenizer } from './tokenizer';
import { loadWeights, type WeightPlacement } from './weights';

export interface LoadCausalLmOptions {
  /** Hub access for hub ids (offline mode, cache, endpoint, token). */
  readonly hub?: Partial<HubSettings>;
  /** Hub revision (branch, tag or commit) when `ref` is a hub id. */
  readonly revision?: string;
  /** Relative folders resolve against this (a spec's folder); default: the working directory. */
  readonly baseDir?: string;
  /** Default truncation length of encode(); default: max_position_embeddings. */
  readonly maxSeqLen?: number;
  /** Where the frozen weights are kept (see WeightPlacement); default 'auto'. */
  readonly weights?: WeightPlacement;
  readonly log?: Logger;
}

/**
 * Loads a Hugging Face causal LM: a local folder (config.json, tokenizer.json,
 * tokenizer_config.json, model.safetensors or its sharded index) or a hub id fetched into the
 * cache. Initialises the TensorFlow.js backend first unless one is chosen already.
 */
export async function loadCausalLm(ref: string, options: LoadCausalLmOptions = {}): Promise<CausalLm> {
  if (!ref) throw new ModelLoadError('(model)', 'no model folder or hub id given');
  const { dir, id } = await locateModel(ref, options);
  await initBackend('auto', options.log);
  const config = await readConfig(dir);
  const tokenizer = await HfTokenizer.fromDir(dir, config);
  const weights = await loadWeights(dir, config, { placement: options.weights });
  const model = new CausalLm(id, config, tokenizer, weights, { maxSeqLen: options.maxSeqLen });
  const params = countParameters(model);
  options.log?.info(
    `model: ${model.id} (${config.modelType}, ${config.numLayers} layers, hidden ${config.hiddenSize}, ${config.numHeads}/${config.numKeyValueHeads} heads, vocab ${config.vocabSize}, ${formatCount(params)} parameters)`,
  );
  options.log?.info(weights.placement.line);
  return model;
}

/** An existing local folder (relative to `baseDir`, `~` expanded), else a hub download. */
async function locateModel(ref: string, options: LoadCausalLmOptions): Promise<{ dir: string; id: string }> {
  const expanded = ref === '~' || ref.startsWith('~/') ? path.join(os.homedir(), ref.slice(1)) : ref;
  const local = path.resolve(options.baseDir ?? process.cwd(), expanded);
  const stat = await fs.stat(local).catch(() => null);
  if (stat) {
    if (!stat.isDirectory()) throw new ModelLoadError(local, 'is a file; expected a Hugging Face model folder (config.json, tokenizer.json, *.safetensors)');
    return { dir: local, id: local };
  }
  const looksLikePath = expanded !== ref || ref.startsWith('.') || path.isAbsolute(ref) || ref.includes('\\');
  if (looksLikePath || !isHubId(ref)) throw new ModelLoadError(local, 'model folder not found');
  const { offline, cacheDir, endpoint, token } = options.hub ?? {};
  const dir = await resolveModelDir(ref, { offline, cacheDir, endpoint, token, revision: options.revision, log: options.log });
  return { dir, id: ref };
}

function countParameters(model: CausalLm): number {
  const c = model.config;
  let n = c.vocabSize * c.hiddenSize + c.hiddenSize; // embedding, final norm
  for (const site of model.sites()) if (!(site.kind === 'lm_head' && c.tieWordEmbeddings)) n += site.inFeatures * site.outFeatures;
  n += c.numLayers * 2 * c.hiddenSize; // the two norms per layer
  return n;
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}K`;
  return String(n);
}
