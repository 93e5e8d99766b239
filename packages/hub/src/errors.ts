import { UserError } from '@bayes-peft/core';
import type { RepoType } from './cache';

/** A hub request failed, or a repository lacks a file bayes-peft needs. */
export class HubError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'HubError';
  }
}

/** Offline mode is on and the cache lacks a file (or the revision's ref). */
export class HubOfflineError extends HubError {
  constructor(
    readonly repo: string,
    readonly repoType: RepoType,
    readonly file: string,
    readonly revision: string,
    readonly cacheDir: string,
    readonly offlineReason: string,
    detail?: string,
  ) {
    super(
      `offline mode (${offlineReason}): ${repoType} '${repo}' ${detail ?? `file '${file}'`} (revision ${revision}) is not in the hub cache ${cacheDir}. ` +
        `Run once with network access to fill the cache, turn offline mode off, or point to a local folder.`,
    );
    this.name = 'HubOfflineError';
  }
}
