import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HubChoices, Logger } from '@bayes-peft/core';
import { isHubId, resolveModelDir } from '@bayes-peft/hub';
import { initBackend } from '@bayes-peft/tensor';
import { readConfig, type CausalLmConfig } from './config';
import { ModelLoadError } from './errors';
import { CausalLm } from './model';
import { HfTokenizer } from './tokenizer';
import { loadWeights, type WeightPlacement } from './weights';

export interface LoadCausalLmOptions {
  /** Hub access for hub ids (offline mode, cache, endpoint, token). */
  readonly hub?: Partial<HubChoices>;
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
  // Said before the weights are read: a large model takes a while (the weights line follows as
  // soon as their place is decided, and the time it took at the end).
  options.log?.info(
    `model: ${id} (${config.modelType}, ${config.numLayers} layers, hidden ${config.hiddenSize}, ${config.numHeads}/${config.numKeyValueHeads} heads, vocab ${config.vocabSize}, ${formatCount(countParameters(config))} parameters)`,
  );
  const t0 = Date.now();
  const weights = await loadWeights(dir, config, { placement: options.weights, log: (line) => options.log?.info(line) });
  const seconds = (Date.now() - t0) / 1000;
  if (seconds >= 1) options.log?.info(`weights read in ${seconds.toFixed(1)} s`);
  return new CausalLm(id, config, tokenizer, weights, { maxSeqLen: options.maxSeqLen });
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

/** Every stored parameter: embedding, projections (and biases), norms, an untied head. */
function countParameters(c: CausalLmConfig): number {
  const q = c.numHeads * c.headDim;
  const kv = c.numKeyValueHeads * c.headDim;
  const attention = c.hiddenSize * (q + 2 * kv) + q * c.hiddenSize + (c.qkvBias ? q + 2 * kv : 0) + (c.outputBias ? c.hiddenSize : 0);
  const mlp = 3 * c.hiddenSize * c.intermediateSize + (c.mlpBias ? 2 * c.intermediateSize + c.hiddenSize : 0);
  const layer = attention + mlp + 2 * c.hiddenSize;
  const head = c.tieWordEmbeddings ? 0 : c.vocabSize * c.hiddenSize;
  return c.vocabSize * c.hiddenSize + c.numLayers * layer + c.hiddenSize + head;
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}K`;
  return String(n);
}
