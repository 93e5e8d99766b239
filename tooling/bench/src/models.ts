// The models the bench knows and where their folders come from.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { readEnv } from '@bayes-peft/core';
import { makeTinyLlama, projectRoot, sharedCandidate, type PresetName } from '@bayes-peft/fixtures';

export const MODELS = ['stories260K', 'random-40M', 'random-1b', 'tiny'] as const;
export type ModelName = (typeof MODELS)[number];
export const DEFAULT_MODELS: readonly ModelName[] = ['stories260K', 'random-40M'];

/**
 * Batch and sequence of a model's figures when --batch / --seq are not given: the usual 4 x 128,
 * and 1 x 64 for the 1B-shaped model (the shapes its PyTorch reference figures were taken at).
 */
export function defaultShape(name: ModelName): { batch: number; seq: number } {
  return name === 'random-1b' ? { batch: 1, seq: 64 } : { batch: 4, seq: 128 };
}

/**
 * Timed generate calls of a model's generation line when --gen-batches is not given: 2, and none
 * for the 1B-shaped model (its decoding widens every BF16 layer per step: minutes per call).
 */
export function defaultGenBatches(name: ModelName): number {
  return name === 'random-1b' ? 0 : 2;
}

export function isModelName(name: string): name is ModelName {
  return (MODELS as readonly string[]).includes(name);
}

/** Where generated fixtures live: --cache-dir, else $BAYES_PEFT_CACHE/bench, else node_modules/.cache/bayes-peft. */
export function defaultCacheDir(): string {
  const cache = readEnv('BAYES_PEFT_CACHE');
  if (cache) return path.join(path.resolve(cache), 'bench');
  return path.join(projectRoot(__dirname), 'node_modules', '.cache', 'bayes-peft');
}

export type ModelLocation = { readonly dir: string; readonly note?: string } | { readonly skip: string };

/**
 * The model's folder: stories260K from shared/ (skipped with a reason when absent), the random
 * presets made once (seeded, so always the same bytes) in the cache directory.
 */
export async function locateModel(name: ModelName, cacheDir: string, log: (line: string) => void): Promise<ModelLocation> {
  if (name === 'stories260K') {
    const dir = path.join(sharedCandidate(), 'models', 'stories260K');
    if (!existsSync(path.join(dir, 'config.json'))) {
      return { skip: `${dir} not found (set BAYES_PEFT_SHARED to the folder holding models/stories260K)` };
    }
    return { dir };
  }
  const dir = path.join(cacheDir, name);
  const t0 = Date.now();
  const made = await makeTinyLlama(dir, name as PresetName);
  if (made.created) log(`${name}: made ${dir} (${(made.parameters / 1e6).toFixed(1)}M parameters, seed 0) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (name === 'random-1b') return { dir, note: 'Llama-3.2-1B shapes, BF16, one 2.47 GB file' };
  return { dir };
}
