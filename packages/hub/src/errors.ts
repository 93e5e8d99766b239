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

/** A downloaded LFS file does not hash to the sha256 the hub reports for it; nothing was cached. */
export class HubIntegrityError extends HubError {
  constructor(
    readonly repo: string,
    readonly repoType: RepoType,
    readonly file: string,
    readonly commit: string,
    readonly expectedSha256: string,
    readonly actualSha256: string,
  ) {
    super(
      `integrity check failed for ${repoType} '${repo}' file '${file}' (revision ${commit.slice(0, 12)}): ` +
        `expected sha256 ${expectedSha256}, got ${actualSha256}; the download was discarded (not cached). Run again to retry; if it persists, the hub or a proxy is serving other bytes.`,
    );
    this.name = 'HubIntegrityError';
  }
}
