// Placeholder API, implemented in this package next: see README.md.
import type { Logger } from '@bayes-peft/core';

export interface HubOptions {
  /** Never touch the network; use the cache and say which file is missing. */
  readonly offline?: boolean;
  /** Defaults to $BAYES_PEFT_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. */
  readonly cacheDir?: string;
  /** Defaults to $HF_ENDPOINT, else https://huggingface.co. */
  readonly endpoint?: string;
  readonly token?: string;
  readonly revision?: string;
  readonly log?: Logger;
}

/** `org/name` (or `name`) that is not an existing local path. */
export function isHubId(ref: string): boolean {
  return /^[\w.-]+(\/[\w.-]+)?$/.test(ref) && !ref.startsWith('.') && !require('node:fs').existsSync(ref);
}

/**
 * A local model folder as-is, or a hub model id downloaded (config.json, tokenizer files,
 * safetensors and their index) into the cache; returns the folder to load from.
 */
export async function resolveModelDir(ref: string, options: HubOptions = {}): Promise<string> {
  if (!isHubId(ref)) return ref;
  void options;
  throw new Error(`hub download of '${ref}' is not implemented yet`);
}
