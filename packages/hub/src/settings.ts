import * as os from 'node:os';
import * as path from 'node:path';
import { consoleLogger, envText, readEnv, type EnvSource, type HubChoices, type Logger } from '@bayes-peft/core';

/** HF_ENDPOINT's default. */
export const DEFAULT_ENDPOINT = readEnv('HF_ENDPOINT', {});

/** A run's hub choices (core's `HubChoices`, which `RunContext.hub` carries) plus per-call options. */
export interface HubOptions extends HubChoices {
  /** Never touch the network; use the cache and say which file is missing. Also HF_HUB_OFFLINE=1 / BAYES_PEFT_OFFLINE=1. */
  readonly offline?: boolean;
  /** Defaults to $BAYES_PEFT_CACHE, else $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. */
  readonly cacheDir?: string;
  /** Defaults to $HF_ENDPOINT, else https://huggingface.co. */
  readonly endpoint?: string;
  /** Defaults to $HF_TOKEN (then $HUGGING_FACE_HUB_TOKEN). */
  readonly token?: string;
  /** Branch, tag or commit; defaults to `main`. */
  readonly revision?: string;
  /** Download progress and fallbacks; defaults to stderr. */
  readonly log?: Logger;
  /** For tests and proxies: the fetch every request goes through. */
  readonly fetch?: typeof fetch;
}

/** HubOptions with every default and environment variable applied. */
export interface HubSettings {
  readonly offline: boolean;
  /** Why offline is on, for error messages (`offline: true`, `HF_HUB_OFFLINE=1`, ...). */
  readonly offlineReason: string;
  readonly cacheDir: string;
  readonly endpoint: string;
  readonly token?: string;
  readonly revision: string;
  readonly log: Logger;
  readonly fetch: typeof fetch;
}

/** The hub cache folder from the environment (variables declared in @bayes-peft/env). */
export function defaultCacheDir(env: EnvSource = process.env): string {
  const dir = readEnv('BAYES_PEFT_CACHE', env) ?? readEnv('HF_HUB_CACHE', env) ?? readEnv('HUGGINGFACE_HUB_CACHE', env);
  if (dir) return dir;
  const home = readEnv('HF_HOME', env);
  if (home) return path.join(home, 'hub');
  const xdg = readEnv('XDG_CACHE_HOME', env) ?? path.join(os.homedir(), '.cache');
  return path.join(xdg, 'huggingface', 'hub');
}

/** Applies defaults: explicit options win over the environment, which wins over built-in defaults. */
export function resolveHubSettings(options: HubOptions = {}, env: EnvSource = process.env): HubSettings {
  let offline = false;
  let offlineReason = '';
  if (options.offline !== undefined) {
    offline = options.offline;
    offlineReason = 'offline: true';
  } else if (readEnv('HF_HUB_OFFLINE', env)) {
    offline = true;
    offlineReason = envText('HF_HUB_OFFLINE', env) ?? 'HF_HUB_OFFLINE=1';
  } else if (readEnv('BAYES_PEFT_OFFLINE', env)) {
    offline = true;
    offlineReason = envText('BAYES_PEFT_OFFLINE', env) ?? 'BAYES_PEFT_OFFLINE=1';
  }
  const endpoint = (options.endpoint ?? readEnv('HF_ENDPOINT', env)).replace(/\/+$/, '');
  const token = options.token ?? (readEnv('HF_TOKEN', env) || readEnv('HUGGING_FACE_HUB_TOKEN', env) || undefined);
  const baseFetch = options.fetch ?? globalThis.fetch;
  return {
    offline,
    offlineReason,
    cacheDir: path.resolve(options.cacheDir ?? defaultCacheDir(env)),
    endpoint,
    token,
    revision: options.revision ?? 'main',
    log: options.log ?? consoleLogger,
    fetch: authFetch(baseFetch, endpoint, token),
  };
}

/**
 * Adds the token to requests for the endpoint's own origin only (never to CDN redirects), so
 * tokens that do not start with `hf_` work too (the hub library rejects those).
 */
function authFetch(base: typeof fetch, endpoint: string, token: string | undefined): typeof fetch {
  const origin = safeOrigin(endpoint);
  return (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init?.headers);
    if (!headers.has('user-agent')) headers.set('user-agent', 'bayes-peft-hub; @huggingface/hub');
    if (token && safeOrigin(url) === origin && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
    return base(input, { ...init, headers });
  };
}

function safeOrigin(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}
