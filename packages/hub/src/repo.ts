import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { datasetInfo, downloadFile, fileDownloadInfo, HubApiError, listFiles, modelInfo } from '@huggingface/hub';
import { COMMIT_RE, exists, normalizeEtag, RepoCache, type RepoType } from './cache';
import { HubError, HubIntegrityError, HubOfflineError } from './errors';
import type { HubSettings } from './settings';

export interface RepoFile {
  /** Repo-relative path with `/` separators. */
  readonly path: string;
  /** Bytes, when the listing says (online only). */
  readonly size?: number;
}

/**
 * One hub repository at one revision, seen through the cache. Online it asks the hub (through
 * @huggingface/hub) and fills the cache; offline, or when the hub cannot be reached and the
 * revision is cached, it answers from the cache alone.
 */
export class HubRepo {
  readonly cache: RepoCache;
  /** Set when the hub is unreachable and the cache answers instead; the reason, for messages. */
  private cacheOnly: string | null;
  /** Blob names from the listing (`commit:path` -> sha256 for LFS files, git oid otherwise): the Python cache's names. */
  private readonly listedOids = new Map<string, string>();
  /** `commit:path` -> the sha256 the listing gives for LFS files (`lfs.oid`): what a download must hash to. */
  private readonly lfsSha256 = new Map<string, string>();

  constructor(
    readonly repo: string,
    readonly type: RepoType,
    readonly settings: HubSettings,
  ) {
    this.cache = new RepoCache(settings.cacheDir, repo, type);
    this.cacheOnly = settings.offline ? settings.offlineReason : null;
  }

  get offline(): boolean {
    return this.cacheOnly !== null;
  }

  /** Why the cache answers alone (`HF_HUB_OFFLINE=1`, `<endpoint> unreachable`), or null when online. */
  get offlineReason(): string | null {
    return this.cacheOnly;
  }

  private get repoRef() {
    return { type: this.type, name: this.repo };
  }

  private get label(): string {
    return `${this.type} '${this.repo}'`;
  }

  /** The commit hash `revision` points to; online this also records refs/<revision> in the cache. */
  async commit(revision: string = this.settings.revision): Promise<string> {
    if (!this.offline) {
      try {
        const params = { name: this.repo, hubUrl: this.settings.endpoint, revision, additionalFields: ['sha'] as ['sha'], fetch: this.settings.fetch };
        const info = this.type === 'model' ? await modelInfo(params) : await datasetInfo(params);
        const sha = (info as { sha?: string }).sha;
        if (!sha) throw new HubError(`${this.settings.endpoint} returned no commit hash for ${this.label} revision '${revision}'`);
        await this.cache.writeRef(revision, sha);
        return sha;
      } catch (e) {
        if (!isNetworkError(e)) throw this.wrap(e, `revision '${revision}'`);
        const cached = await this.cache.readRef(revision);
        if (!cached) throw this.wrap(e, `revision '${revision}'`);
        this.cacheOnly = `${this.settings.endpoint} unreachable`;
        this.settings.log.warn(`hub: cannot reach ${this.settings.endpoint} (${causeOf(e)}); using the cached ${this.label} at ${cached.slice(0, 12)}`);
        return cached;
      }
    }
    const cached = await this.cache.readRef(revision);
    if (!cached) {
      throw new HubOfflineError(this.repo, this.type, `refs/${revision}`, revision, this.settings.cacheDir, this.cacheOnly!, 'has no cached revision (no refs/' + revision + ' and no snapshot)');
    }
    return cached;
  }

  /** Every file of the revision: the hub's tree listing online, the cached snapshot offline. */
  async list(commit: string): Promise<RepoFile[]> {
    if (this.offline) return (await this.cache.listSnapshot(commit)).map((p) => ({ path: p }));
    const out: RepoFile[] = [];
    try {
      for await (const entry of listFiles({ repo: this.repoRef, recursive: true, revision: commit, hubUrl: this.settings.endpoint, fetch: this.settings.fetch })) {
        if (entry.type !== 'file') continue;
        out.push({ path: entry.path, size: entry.lfs?.size ?? entry.size });
        const oid = entry.lfs?.oid ?? entry.oid;
        if (oid) this.listedOids.set(`${commit}:${entry.path}`, oid);
        if (entry.lfs?.oid) this.lfsSha256.set(`${commit}:${entry.path}`, entry.lfs.oid.toLowerCase());
      }
    } catch (e) {
      throw this.wrap(e, 'file listing');
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /**
   * The local path of one file of the commit, downloading it into the cache when needed.
   * `optional` files that the repo lacks give null (and a .no_exist marker); required ones throw.
   */
  async file(commit: string, file: string, options: { optional?: boolean; revision?: string } = {}): Promise<string | null> {
    const revision = options.revision ?? this.settings.revision;
    const cached = await this.cache.cachedFile(commit, file);
    if (cached) return cached;
    if (this.offline) {
      if (options.optional) return null;
      throw new HubOfflineError(this.repo, this.type, file, revision === commit ? commit : `${revision} = ${commit.slice(0, 12)}`, this.settings.cacheDir, this.cacheOnly!);
    }
    if (options.optional && (await this.cache.knownMissing(commit, file))) return null;

    let info: Awaited<ReturnType<typeof fileDownloadInfo>>;
    try {
      info = await fileDownloadInfo({ repo: this.repoRef, path: file, revision: commit, hubUrl: this.settings.endpoint, fetch: this.settings.fetch });
    } catch (e) {
      if (options.optional && e instanceof HubApiError && e.statusCode === 404) info = null;
      else throw this.wrap(e, `file '${file}'`);
    }
    if (!info) {
      if (options.optional) {
        await this.cache.markMissing(commit, file);
        return null;
      }
      throw new HubError(`${this.label} has no file '${file}' at revision ${revision} (${commit.slice(0, 12)})`);
    }
    // The listing's oid is what the Python library names the blob (X-Linked-Etag, seen before any
    // CDN redirect); fetch follows redirects, so the ETag we see may be the CDN's own.
    const etag = this.listedOids.get(`${commit}:${file}`) ?? normalizeEtag(info.etag);
    // LFS files carry a sha256 (the listing's lfs.oid; a 64-hex ETag is the hub's X-Linked-Etag
    // for LFS files); plain files (git blob oids, 40 hex) are not checked.
    const sha256 = this.lfsSha256.get(`${commit}:${file}`) ?? (SHA256_RE.test(etag) ? etag.toLowerCase() : undefined);
    if (!(await exists(this.cache.blobPath(etag)))) await this.download(commit, file, etag, info, sha256);
    return this.cache.link(commit, file, etag);
  }

  private async download(commit: string, file: string, etag: string, info: NonNullable<Awaited<ReturnType<typeof fileDownloadInfo>>>, sha256?: string): Promise<void> {
    const { log } = this.settings;
    const blobPath = this.cache.blobPath(etag);
    // Unique per process: two processes filling one cache never write the same temporary file.
    const incomplete = `${blobPath}.${process.pid}-${Math.random().toString(36).slice(2, 8)}.incomplete`;
    await fs.mkdir(path.dirname(blobPath), { recursive: true });
    const started = Date.now();
    log.info(`hub: downloading ${this.repo}/${file} (${formatBytes(info.size)})`);
    try {
      const blob = await downloadFile({ repo: this.repoRef, path: file, revision: commit, hubUrl: this.settings.endpoint, fetch: this.settings.fetch, downloadInfo: info });
      if (!blob) throw new HubError(`${this.label} has no file '${file}' at ${commit.slice(0, 12)}`);
      let received = 0;
      let lastReport = started;
      // Hashed while streaming: no second read of a multi-GB file.
      const hash = sha256 ? createHash('sha256') : null;
      const progress = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          received += chunk.length;
          hash?.update(chunk);
          const now = Date.now();
          if (now - lastReport >= 2000 && info.size > 0) {
            lastReport = now;
            log.info(`hub:   ${file} ${((100 * received) / info.size).toFixed(0)}% (${formatBytes(received)} of ${formatBytes(info.size)})`);
          }
          cb(null, chunk);
        },
      });
      await pipeline(Readable.fromWeb(blob.stream() as NodeReadableStream), progress, createWriteStream(incomplete));
      if (received !== info.size) {
        throw new HubError(`download of ${this.repo}/${file} was cut short: ${received} of ${info.size} bytes`);
      }
      if (hash && sha256) {
        const actual = hash.digest('hex');
        if (actual !== sha256) {
          throw new HubIntegrityError(this.repo, this.type, file, commit, sha256, actual);
        }
      }
      await fs.rename(incomplete, blobPath);
    } catch (e) {
      await fs.rm(incomplete, { force: true });
      throw this.wrap(e, `file '${file}'`);
    }
    const secs = Math.max((Date.now() - started) / 1000, 0.001);
    log.info(`hub: done ${this.repo}/${file} in ${secs.toFixed(1)} s (${formatBytes(info.size / secs)}/s)`);
  }

  /** Turns library and network errors into messages a user can act on. */
  private wrap(e: unknown, what: string): Error {
    if (e instanceof HubError) return e;
    const where = `${this.label} ${what} from ${this.settings.endpoint}`;
    if (e instanceof HubApiError) {
      const hint =
        e.statusCode === 401 || e.statusCode === 403
          ? this.settings.token
            ? ' — the token has no access: gated repos need their license accepted on the hub'
            : ' — private or gated repo: set HF_TOKEN (or hub.token)'
          : e.statusCode === 404
            ? ' — check the repo id and revision'
            : '';
      return new HubError(`cannot get ${where}: HTTP ${e.statusCode}${hint} (${e.message})`);
    }
    if (isNetworkError(e)) {
      return new HubError(`cannot reach ${this.settings.endpoint} for ${this.label} ${what} (${causeOf(e)}); set HF_HUB_OFFLINE=1 to use the cache, or HF_ENDPOINT for a mirror`);
    }
    return e instanceof Error || (e && typeof e === 'object' && 'message' in e) ? (e as Error) : new Error(String(e));
  }
}

const SHA256_RE = /^[0-9a-fA-F]{64}$/;

function isNetworkError(e: unknown): boolean {
  // Duck-typed: errors from fetch may come from another realm (jest's vm), defeating instanceof.
  if (!e || typeof e !== 'object' || e instanceof HubApiError || e instanceof HubError) return false;
  const err = e as { name?: string; message?: string };
  return err.name === 'TypeError' && /fetch failed/i.test(err.message ?? '') || /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|UND_ERR_SOCKET|UND_ERR_CONNECT/i.test(`${err.message} ${causeOf(e)}`);
}

function causeOf(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (e as Error)?.message ?? String(e);
}

/** Decimal units, as the hub shows sizes. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export { COMMIT_RE };
