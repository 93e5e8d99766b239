// The cache layout of the Python `huggingface_hub` library, so both tools share one cache:
//
//   <cacheDir>/models--org--name/
//     refs/<revision>                 the commit hash a branch or tag pointed to
//     blobs/<etag>                    file contents, named by ETag (sha256 for LFS files)
//     snapshots/<commit>/<path>       relative symlinks into blobs/ (copies where symlinks fail)
//     .no_exist/<commit>/<path>       empty markers: this optional file is absent upstream
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export type RepoType = 'model' | 'dataset';

export const COMMIT_RE = /^[0-9a-f]{40}$/;

export function repoFolderName(repo: string, type: RepoType): string {
  return [`${type}s`, ...repo.split('/')].join('--');
}

export class RepoCache {
  readonly root: string;

  constructor(
    readonly cacheDir: string,
    readonly repo: string,
    readonly type: RepoType,
  ) {
    this.root = path.join(cacheDir, repoFolderName(repo, type));
  }

  refPath(revision: string): string {
    return path.join(this.root, 'refs', ...revision.split('/'));
  }

  snapshotDir(commit: string): string {
    return path.join(this.root, 'snapshots', commit);
  }

  pointerPath(commit: string, file: string): string {
    return path.join(this.snapshotDir(commit), ...file.split('/'));
  }

  blobPath(etag: string): string {
    return path.join(this.root, 'blobs', etag);
  }

  noExistPath(commit: string, file: string): string {
    return path.join(this.root, '.no_exist', commit, ...file.split('/'));
  }

  /** The commit a revision resolves to in the cache, or null when it was never fetched. */
  async readRef(revision: string): Promise<string | null> {
    if (COMMIT_RE.test(revision)) return (await exists(this.snapshotDir(revision))) ? revision : null;
    try {
      const commit = (await fs.readFile(this.refPath(revision), 'utf8')).trim();
      return commit.length > 0 ? commit : null;
    } catch {
      return null;
    }
  }

  async writeRef(revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
    const file = this.refPath(revision);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, commit);
  }

  /** The snapshot file when present (following the symlink), else null. */
  async cachedFile(commit: string, file: string): Promise<string | null> {
    const p = this.pointerPath(commit, file);
    return (await exists(p)) ? p : null;
  }

  async markMissing(commit: string, file: string): Promise<void> {
    const p = this.noExistPath(commit, file);
    await fs.mkdir(path.dirname(p), { recursive: true });
    await fs.writeFile(p, '');
  }

  async knownMissing(commit: string, file: string): Promise<boolean> {
    return exists(this.noExistPath(commit, file));
  }

  /** Links snapshots/<commit>/<file> to an existing blob (relative symlink; a copy where that fails). */
  async link(commit: string, file: string, etag: string): Promise<string> {
    const pointer = this.pointerPath(commit, file);
    const blob = this.blobPath(etag);
    await fs.mkdir(path.dirname(pointer), { recursive: true });
    await fs.rm(pointer, { force: true });
    try {
      await fs.symlink(path.relative(path.dirname(pointer), blob), pointer);
    } catch {
      await fs.copyFile(blob, pointer);
    }
    return pointer;
  }

  /** Every file of a cached snapshot, as repo-relative paths with `/` separators. */
  async listSnapshot(commit: string): Promise<string[]> {
    const root = this.snapshotDir(commit);
    const out: string[] = [];
    const walk = async (dir: string, prefix: string) => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const rel = prefix ? `${prefix}/${e.name}` : e.name;
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full, rel);
        else if (await exists(full)) out.push(rel); // skips dangling symlinks
      }
    };
    await walk(root, '');
    return out.sort();
  }
}

export async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

/** ETags arrive quoted and sometimes weak (`W/"..."`); the cache names blobs by the bare value. */
export function normalizeEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}
