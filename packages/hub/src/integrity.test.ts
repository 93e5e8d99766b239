import { createHash } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startMockHub, type MockHub } from '@bayes-peft/fixtures';
import type { Logger } from '@bayes-peft/core';
import { HubError, HubIntegrityError, HubRepo, resolveDatasetFiles, resolveHubSettings, resolveModelDir } from './index';

const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

const weights = new Uint8Array(4096).map((_, i) => (i * 7) % 251);
const flipped = Uint8Array.from(weights, (v, i) => (i === 1000 ? v ^ 0xff : v)); // same length, one byte off
const baseFiles = { 'config.json': '{"model_type":"llama"}', 'tokenizer.json': '{}', 'tokenizer_config.json': '{}' };

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(full)));
    else out.push(full);
  }
  return out;
}

describe('hub integrity: LFS downloads are checked against the sha256 the hub reports', () => {
  let hub: MockHub;
  let cacheDir: string;

  beforeAll(async () => {
    hub = await startMockHub([
      { type: 'model', id: 'org/good', revisions: { main: { files: { ...baseFiles, 'model.safetensors': weights } } } },
      { type: 'model', id: 'org/bad', revisions: { main: { files: { ...baseFiles, 'model.safetensors': weights }, corrupt: { 'model.safetensors': flipped } } } },
      { type: 'model', id: 'org/bad-config', revisions: { main: { files: { ...baseFiles, 'model.safetensors': weights }, corrupt: { 'config.json': '{"model_type":"llamb"}' } } } },
      {
        type: 'dataset',
        id: 'org/bad-data',
        revisions: { main: { files: { 'data/train.parquet': 'PAR1 good rows PAR1' }, corrupt: { 'data/train.parquet': 'PAR1 evil rows PAR1' } } },
      },
    ]);
    cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-hub-integrity-'));
  });
  afterAll(async () => {
    await hub.close();
    await fs.rm(cacheDir, { recursive: true, force: true });
  });

  const opts = () => ({ endpoint: hub.endpoint, cacheDir, log: quiet, offline: false });

  it('a good LFS file passes and is cached under its sha256', async () => {
    const dir = await resolveModelDir('org/good', opts());
    expect(readFileSync(path.join(dir, 'model.safetensors')).equals(Buffer.from(weights))).toBe(true);
    const blobs = await fs.readdir(path.join(cacheDir, 'models--org--good', 'blobs'));
    expect(blobs).toContain(sha256(weights));
  });

  it('a corrupted LFS file fails naming repo, path, expected and actual sha256, and leaves nothing in the cache', async () => {
    const err = await resolveModelDir('org/bad', opts()).catch((e) => e);
    expect(err).toBeInstanceOf(HubIntegrityError);
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toContain("model 'org/bad'");
    expect(err.message).toContain("file 'model.safetensors'");
    expect(err.message).toContain(`expected sha256 ${sha256(weights)}`);
    expect(err.message).toContain(`got ${sha256(flipped)}`);
    expect(err).toMatchObject({ repo: 'org/bad', file: 'model.safetensors', expectedSha256: sha256(weights), actualSha256: sha256(flipped) });

    const root = path.join(cacheDir, 'models--org--bad');
    const all = await walk(root);
    expect(all.filter((f) => /model\.safetensors$/.test(f) || /\.incomplete$/.test(f))).toEqual([]);
    const blobs = await fs.readdir(path.join(root, 'blobs'));
    expect(blobs.filter((b) => /^[0-9a-f]{64}/.test(b))).toEqual([]); // no sha256-named blob, complete or partial
    // The plain (non-LFS) files before it were fetched and kept as usual.
    const commit = readFileSync(path.join(root, 'refs', 'main'), 'utf8');
    expect(readFileSync(path.join(root, 'snapshots', commit, 'config.json'), 'utf8')).toBe('{"model_type":"llama"}');

    // Asking again downloads again (nothing bad was cached) and fails the same way.
    const again = await resolveModelDir('org/bad', opts()).catch((e) => e);
    expect(again).toBeInstanceOf(HubIntegrityError);
  });

  it('checks a single file fetched without a listing too (the 64-hex ETag of an LFS file)', async () => {
    const repo = new HubRepo('org/bad', 'model', resolveHubSettings(opts()));
    const commit = await repo.commit();
    const err = await repo.file(commit, 'model.safetensors').catch((e) => e);
    expect(err).toBeInstanceOf(HubIntegrityError);
    expect(err.message).toContain(`expected sha256 ${sha256(weights)}`);
    expect(await repo.cache.cachedFile(commit, 'model.safetensors')).toBeNull();
  });

  it('a non-LFS file (config.json) is not checked against a sha256: it downloads as before', async () => {
    const dir = await resolveModelDir('org/bad-config', opts());
    expect(readFileSync(path.join(dir, 'config.json'), 'utf8')).toBe('{"model_type":"llamb"}');
    expect(readFileSync(path.join(dir, 'model.safetensors')).equals(Buffer.from(weights))).toBe(true);
  });

  it('a corrupted parquet data file fails the same way', async () => {
    const err = await resolveDatasetFiles('org/bad-data', undefined, 'train', opts()).catch((e) => e);
    expect(err).toBeInstanceOf(HubIntegrityError);
    expect(err.message).toContain("dataset 'org/bad-data' file 'data/train.parquet'");
    const all = await walk(path.join(cacheDir, 'datasets--org--bad-data'));
    expect(all.filter((f) => /train\.parquet$|\.incomplete$|[0-9a-f]{64}/.test(f))).toEqual([]);
  });
});
