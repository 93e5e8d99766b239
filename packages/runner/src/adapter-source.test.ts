import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startMockHub, type MockHub } from '@bayes-peft/fixtures';
import { silentLogger } from '@bayes-peft/core';
import { HubError, HubOfflineError } from '@bayes-peft/hub';
import { resolveAdapterDir } from './adapter-source';
import { RunSpecSchema } from './spec/schema';

const REPO = 'org/adapters';
const weights = (fill: number) => new Uint8Array(64).fill(fill);
/** A repo as the reference's checkpoints lay it out: one adapter per folder, a deep ensemble with a member one level down. */
const FILES = {
  'README.md': '# adapters',
  'mle/seed1/adapter_config.json': '{"r":8,"lora_alpha":16}',
  'mle/seed1/adapter_model.safetensors': weights(1),
  'mle/seed1/bayes_peft.json': '{"wrapper":"mle"}',
  'mle/seed2/adapter_config.json': '{"r":8}',
  'mle/seed2/adapter_model.safetensors': weights(2),
  'ensemble/adapter_config.json': '{"r":8}',
  'ensemble/adapter_model.safetensors': weights(3),
  'ensemble/adapter_1/adapter_config.json': '{"r":8}',
  'ensemble/adapter_1/adapter_model.safetensors': weights(4),
  'ensemble/notes.txt': 'not an adapter file',
  'broken/adapter_config.json': '{"r":8}',
};

describe('resolveAdapterDir', () => {
  let hub: MockHub;
  let cacheDir: string;
  const online = () => ({ specDir: '/spec', hub: { endpoint: hub.endpoint, cacheDir, offline: false }, log: silentLogger });
  const offline = (dir = cacheDir) => ({ specDir: '/spec', hub: { endpoint: 'http://127.0.0.1:9', cacheDir: dir, offline: true }, log: silentLogger });

  beforeAll(async () => {
    hub = await startMockHub([{ type: 'model', id: REPO, revisions: { main: { files: FILES } } }]);
    cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-adapter-cache-'));
  });
  afterAll(async () => {
    await hub.close().catch(() => undefined);
    await fs.rm(cacheDir, { recursive: true, force: true });
  });

  it('a string is a folder relative to the spec', async () => {
    expect(await resolveAdapterDir('runs/x/adapter', { specDir: '/spec', hub: {} })).toBe(path.resolve('/spec', 'runs/x/adapter'));
  });

  it("fetches a subfolder's adapter files (and only those) into the hub cache and returns the snapshot's subfolder", async () => {
    const dir = await resolveAdapterDir({ repo: REPO, subfolder: 'mle/seed1' }, online());
    const commit = readFileSync(path.join(cacheDir, 'models--org--adapters', 'refs', 'main'), 'utf8');
    expect(dir).toBe(path.join(cacheDir, 'models--org--adapters', 'snapshots', commit, 'mle', 'seed1'));
    expect((await fs.readdir(dir)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'bayes_peft.json']);
    expect(readFileSync(path.join(dir, 'adapter_model.safetensors'))).toEqual(Buffer.from(weights(1)));
    // Each file is asked for twice (the library's size probe, then the download).
    const fetched = new Set(hub.requests.filter((r) => r.includes('/resolve/')).map((r) => r.replace(/^.*\/resolve\/[^/]+\//, '')));
    expect([...fetched].sort()).toEqual(['mle/seed1/adapter_config.json', 'mle/seed1/adapter_model.safetensors', 'mle/seed1/bayes_peft.json']);
  });

  it('fetches the adapters one folder down too (a deep ensemble), not other files; bayes_peft.json is optional', async () => {
    const dir = await resolveAdapterDir({ repo: REPO, subfolder: 'ensemble/', revision: 'main' }, online());
    expect((await fs.readdir(dir)).sort()).toEqual(['adapter_1', 'adapter_config.json', 'adapter_model.safetensors']);
    expect((await fs.readdir(path.join(dir, 'adapter_1'))).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  });

  it('offline, a cached adapter is served from the cache without a request', async () => {
    const before = hub.requests.length;
    const dir = await resolveAdapterDir({ repo: REPO, subfolder: 'mle/seed1' }, offline());
    expect(readFileSync(path.join(dir, 'bayes_peft.json'), 'utf8')).toBe('{"wrapper":"mle"}');
    expect(hub.requests.length).toBe(before);
  });

  it('offline, a repo that is not cached is a clear error naming offline mode and the repo', async () => {
    const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-adapter-empty-'));
    try {
      const err = await resolveAdapterDir({ repo: REPO, subfolder: 'mle/seed1' }, offline(empty)).catch((e) => e);
      expect(err).toBeInstanceOf(HubOfflineError);
      expect(err.message).toContain('offline mode');
      expect(err.message).toContain(`'${REPO}'`);
      // An adapter of a cached revision that was never fetched: the error names its file.
      const miss = await resolveAdapterDir({ repo: REPO, subfolder: 'mle/seed2' }, offline()).catch((e) => e);
      expect(miss).toBeInstanceOf(HubOfflineError);
      expect(miss.message).toContain("file 'mle/seed2/adapter_config.json'");
    } finally {
      await fs.rm(empty, { recursive: true, force: true });
    }
  });

  it('a folder without an adapter file names the file; the repo root points to the folders that hold one', async () => {
    const broken = await resolveAdapterDir({ repo: REPO, subfolder: 'broken' }, online()).catch((e) => e);
    expect(broken).toBeInstanceOf(HubError);
    expect(broken.message).toBe(`adapter repo '${REPO}' subfolder 'broken' (revision main) has no adapter_model.safetensors`);
    const root = await resolveAdapterDir({ repo: REPO }, online()).catch((e) => e);
    expect(root.message).toMatch(/has no adapter_config\.json; set adapter\.subfolder to one of: broken, ensemble, ensemble\/adapter_1, mle\/seed1, mle\/seed2$/);
  });
});

describe('the run spec accepts both adapter forms', () => {
  const adapter = RunSpecSchema.shape.adapter;
  it('a folder, or { repo, subfolder?, revision? }; rejects a repo id without an owner, unknown keys and .. in the subfolder', () => {
    expect(adapter.parse('../runs/mle/adapter')).toBe('../runs/mle/adapter');
    expect(adapter.parse({ repo: 'org/name', subfolder: 'a/b', revision: 'v1' })).toEqual({ repo: 'org/name', subfolder: 'a/b', revision: 'v1' });
    expect(adapter.safeParse({ repo: 'name' }).success).toBe(false);
    expect(adapter.safeParse({ repo: 'org/name', path: 'x' }).success).toBe(false);
    expect(adapter.safeParse({ repo: 'org/name', subfolder: '../x' }).success).toBe(false);
  });
});
