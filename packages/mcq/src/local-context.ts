import * as os from 'node:os';
import * as path from 'node:path';
import { Rng, type HubChoices, type Logger, type RunContext } from '@bayes-peft/core';

/** A run context that keeps its log lines (instead of printing them). */
export interface LocalRunContext extends RunContext {
  readonly lines: string[];
}

/**
 * A run context for reading datasets outside a run: seed 1, log lines collected in `lines`,
 * relative sources resolved against `specDir` (default: the working directory), and the hub
 * offline with an empty cache unless `hub` says otherwise (no test reaches the network by accident).
 */
export function localRunContext(options: { specDir?: string; hub?: Partial<HubChoices> } = {}): LocalRunContext {
  const lines: string[] = [];
  const log: Logger = { info: (m) => void lines.push(m), warn: (m) => void lines.push(m), debug() {} };
  return {
    seed: 1,
    rng: new Rng(1),
    log,
    lines,
    specDir: options.specDir ?? process.cwd(),
    hub: { offline: true, cacheDir: path.join(os.tmpdir(), 'bayes-peft-local-context-no-cache'), endpoint: 'http://127.0.0.1:9', ...options.hub },
  };
}
