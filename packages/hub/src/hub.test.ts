import { promises as fs, lstatSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findShared, startMockHub, type MockHub } from '@bayes-peft/fixtures';
import type { Logger } from '@bayes-peft/core';
import { HubError, HubOfflineError, resolveHubSettings, isHubId, resolveDatasetFiles, resolveModelDir } from './index';

const stories = findShared('models/stories260K', 'hub download tests over stories260K');
const MODEL = 'karpathy/stories260K';

function memLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(`warn: ${m}`), debug: () => {} };
}

async function tmpDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

(stories ? describe : describe.skip)('resolveModelDir through a local hub', () => {
  let hub: MockHub;
  let cacheDir: string;

  beforeAll(async () => {
    hub = await startMockHub([{ type: 'model', id: MODEL, revisions: { main: { files: stories! } } }]);
    cacheDir = await tmpDir('bp-hub-cache-');
  });
  afterAll(async () => {
    await hub?.close().catch(() => {});
    await fs.rm(cacheDir, { recursive: true, force: true });
  });

  it('downloads the model files into a Python-layout cache, then serves them offline with the server stopped', async () => {
    const log = memLog();
    const dir = await resolveModelDir(MODEL, { endpoint: hub.endpoint, cacheDir, log, offline: false });
    const repoRoot = path.join(cacheDir, 'models--karpathy--stories260K');
    const commit = readFileSync(path.join(repoRoot, 'refs', 'main'), 'utf8');
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(dir).toBe(path.join(repoRoot, 'snapshots', commit));
    for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'model.safetensors']) {
      const local = path.join(dir, f);
      expect(lstatSync(local).isSymbolicLink()).toBe(true);
      expect(readFileSync(local).equals(readFileSync(path.join(stories!, f)))).toBe(true);
    }
    // LFS blobs are named by sha256, plain files by their git blob oid.
    const blobs = await fs.readdir(path.join(repoRoot, 'blobs'));
    expect(blobs.filter((b) => /^[0-9a-f]{64}$/.test(b))).toHaveLength(1);
    expect(blobs.filter((b) => /^[0-9a-f]{40}$/.test(b))).toHaveLength(5);
    expect(log.lines.some((l) => /downloading karpathy\/stories260K\/model\.safetensors \(1\.0 MB\)/.test(l))).toBe(true);
    expect(hub.requests.some((r) => r.startsWith('GET /api/models/karpathy/stories260K/revision/main'))).toBe(true);

    // Second online call: only the revision and listing are asked, no file is downloaded again.
    const before = hub.requests.length;
    await resolveModelDir(MODEL, { endpoint: hub.endpoint, cacheDir, log: memLog(), offline: false });
    expect(hub.requests.slice(before).filter((r) => r.includes('/resolve/') || r.includes('/cdn/'))).toEqual([]);

    await hub.close();
    const offlineDir = await resolveModelDir(MODEL, { endpoint: hub.endpoint, cacheDir, offline: true, log: memLog() });
    expect(offlineDir).toBe(dir);
    expect(JSON.parse(readFileSync(path.join(offlineDir, 'config.json'), 'utf8')).model_type).toBe('llama');
  });

  it('offline with an empty cache: a clear error naming offline mode, the repo and what is missing', async () => {
    const empty = await tmpDir('bp-hub-empty-');
    try {
      const err = await resolveModelDir(MODEL, { cacheDir: empty, offline: true, endpoint: 'http://127.0.0.1:9' }).catch((e) => e);
      expect(err).toBeInstanceOf(HubOfflineError);
      expect(err.message).toContain('offline mode');
      expect(err.message).toContain(MODEL);
      expect(err.message).toContain('refs/main');
      expect(err.message).toContain(empty);
    } finally {
      await fs.rm(empty, { recursive: true, force: true });
    }
  });

  it('offline with a partial cache names the missing file', async () => {
    const partial = await tmpDir('bp-hub-partial-');
    try {
      await fs.cp(cacheDir, partial, { recursive: true, verbatimSymlinks: true });
      const repoRoot = path.join(partial, 'models--karpathy--stories260K');
      const commit = readFileSync(path.join(repoRoot, 'refs', 'main'), 'utf8');
      await fs.rm(path.join(repoRoot, 'snapshots', commit, 'tokenizer.json'));
      const err = await resolveModelDir(MODEL, { cacheDir: partial, offline: true }).catch((e) => e);
      expect(err).toBeInstanceOf(HubOfflineError);
      expect(err.message).toMatch(/offline mode \(offline: true\): model 'karpathy\/stories260K' file 'tokenizer\.json'/);
    } finally {
      await fs.rm(partial, { recursive: true, force: true });
    }
  });
});

describe('resolveModelDir with sharded weights and env settings', () => {
  let hub: MockHub;
  let cacheDir: string;
  const shardA = new Uint8Array(2000).fill(1);
  const shardB = new Uint8Array(3000).fill(2);
  const index = JSON.stringify({ metadata: { total_size: 5000 }, weight_map: { 'a.weight': 'model-00001-of-00002.safetensors', 'b.weight': 'model-00002-of-00002.safetensors' } });

  beforeAll(async () => {
    hub = await startMockHub([
      {
        type: 'model',
        id: 'org/sharded',
        revisions: {
          main: {
            files: {
              'config.json': '{"model_type":"llama"}',
              'tokenizer.json': '{}',
              'tokenizer_config.json': '{}',
              'model.safetensors.index.json': index,
              'model-00001-of-00002.safetensors': shardA,
              'model-00002-of-00002.safetensors': shardB,
              'pytorch_model.bin': 'not fetched',
              'README.md': '# hi',
            },
          },
          v1: { files: { 'config.json': '{"model_type":"llama","v":1}', 'tokenizer.json': '{}', 'pytorch_model.bin': 'x' } },
        },
      },
    ]);
    cacheDir = await tmpDir('bp-hub-shard-');
  });
  afterAll(async () => {
    await hub.close();
    await fs.rm(cacheDir, { recursive: true, force: true });
  });

  it('fetches the index and its shards, skips files it does not need, honours HF_ENDPOINT/HF_HOME', async () => {
    const saved = { ...process.env };
    try {
      process.env.HF_ENDPOINT = hub.endpoint;
      process.env.HF_HOME = cacheDir;
      delete process.env.BAYES_PEFT_CACHE;
      delete process.env.HF_HUB_CACHE;
      delete process.env.HF_HUB_OFFLINE;
      delete process.env.BAYES_PEFT_OFFLINE;
      const dir = await resolveModelDir('org/sharded', { log: memLog() });
      expect(dir.startsWith(path.join(cacheDir, 'hub', 'models--org--sharded', 'snapshots'))).toBe(true);
      expect((await fs.readdir(dir)).sort()).toEqual([
        'config.json',
        'model-00001-of-00002.safetensors',
        'model-00002-of-00002.safetensors',
        'model.safetensors.index.json',
        'tokenizer.json',
        'tokenizer_config.json',
      ]);
      // Optional files the repo lacks are remembered, so offline mode does not ask for them.
      expect(await fs.readdir(path.join(cacheDir, 'hub', 'models--org--sharded', '.no_exist', path.basename(dir)))).toContain('generation_config.json');
      process.env.HF_HUB_OFFLINE = '1';
      expect(await resolveModelDir('org/sharded', { log: memLog() })).toBe(dir);
      const err = await resolveModelDir('org/other', { log: memLog() }).catch((e) => e);
      expect(err.message).toMatch(/^offline mode \(HF_HUB_OFFLINE=1\): model 'org\/other'/);
    } finally {
      process.env = saved;
    }
  });

  it('says what is wrong with a repo that has no safetensors, and with an unknown repo', async () => {
    const err = await resolveModelDir('org/sharded', { endpoint: hub.endpoint, cacheDir, revision: 'v1', log: memLog(), offline: false }).catch((e) => e);
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toContain("no safetensors weights");
    expect(err.message).toContain('pytorch_model.bin');
    const missing = await resolveModelDir('org/nope', { endpoint: hub.endpoint, cacheDir, log: memLog(), offline: false }).catch((e) => e);
    expect(missing).toBeInstanceOf(HubError);
    expect(missing.message).toMatch(/model 'org\/nope' revision 'main' from http:\/\/127\.0\.0\.1:\d+: HTTP 404/);
  });

  it('leaves local folders alone and rejects a missing one', async () => {
    expect(await resolveModelDir(cacheDir)).toBe(cacheDir);
    await expect(resolveModelDir('./no/such/dir')).rejects.toThrow(/no such local folder/);
    expect(isHubId('org/name')).toBe(true);
    expect(isHubId('./org')).toBe(false);
    expect(isHubId(cacheDir)).toBe(false);
  });

  it('an unreachable hub with a cached revision falls back to the cache with a warning', async () => {
    const log = memLog();
    const first = await resolveModelDir('org/sharded', { endpoint: hub.endpoint, cacheDir, log, offline: false });
    const log2 = memLog();
    const again = await resolveModelDir('org/sharded', { endpoint: 'http://127.0.0.1:9', cacheDir, log: log2, offline: false });
    expect(again).toBe(first);
    expect(log2.lines.join('\n')).toMatch(/warn: hub: cannot reach http:\/\/127\.0\.0\.1:9/);
  });
});

describe('resolveDatasetFiles', () => {
  let hub: MockHub;
  let cacheDir: string;
  const card = [
    '---',
    'configs:',
    '- config_name: ARC-Challenge',
    '  data_files:',
    '  - split: train',
    '    path: ARC-Challenge/train-*',
    '  - split: validation',
    '    path: ARC-Challenge/validation-*',
    '- config_name: ARC-Easy',
    '  data_files:',
    '  - split: train',
    '    path: ARC-Easy/train-*',
    '---',
    '# ARC',
  ].join('\n');

  beforeAll(async () => {
    hub = await startMockHub([
      {
        type: 'dataset',
        id: 'allenai/ai2_arc',
        revisions: {
          main: {
            files: {
              'README.md': card,
              'ARC-Challenge/train-00000-of-00001.parquet': 'PAR1 train challenge',
              'ARC-Challenge/validation-00000-of-00001.parquet': 'PAR1 val challenge',
              'ARC-Easy/train-00000-of-00001.parquet': 'PAR1 train easy',
            },
          },
        },
      },
      {
        type: 'dataset',
        id: 'someone/jsonl-set',
        revisions: { main: { files: { 'data/train.jsonl': '{"a":1}\n', 'data/validation.jsonl': '{"a":2}\n', 'data/train_xs.jsonl': '{"a":3}\n' } } },
      },
      {
        type: 'dataset',
        id: 'ybisk/piqa',
        revisions: {
          main: { files: { 'piqa.py': '# a loading script', 'README.md': '# no configs' } },
          'refs/convert/parquet': { files: { 'plain_text/train/0000.parquet': 'PAR1 t0', 'plain_text/train/0001.parquet': 'PAR1 t1', 'plain_text/validation/0000.parquet': 'PAR1 v' } },
        },
      },
    ]);
    cacheDir = await tmpDir('bp-hub-ds-');
  });
  afterAll(async () => {
    await hub.close();
    await fs.rm(cacheDir, { recursive: true, force: true });
  });

  const opts = () => ({ endpoint: hub.endpoint, cacheDir, log: memLog(), offline: false });

  it('follows the dataset card configs (parquet in the repo), also offline afterwards', async () => {
    const files = await resolveDatasetFiles('allenai/ai2_arc', 'ARC-Challenge', 'validation', opts());
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/datasets--allenai--ai2_arc[/\\]snapshots[/\\][0-9a-f]{40}[/\\]ARC-Challenge[/\\]validation-00000-of-00001\.parquet$/);
    expect(readFileSync(files[0], 'utf8')).toBe('PAR1 val challenge');
    const offline = await resolveDatasetFiles('allenai/ai2_arc', 'ARC-Challenge', 'validation', { cacheDir, offline: true });
    expect(offline).toEqual(files);
    const notCached = await resolveDatasetFiles('allenai/ai2_arc', 'ARC-Easy', 'train', { cacheDir, offline: true }).catch((e) => e);
    expect(notCached.message).toMatch(/^offline mode \(offline: true\): no cached files for dataset 'allenai\/ai2_arc' config 'ARC-Easy' split 'train'/);
    const noSplit = await resolveDatasetFiles('allenai/ai2_arc', 'ARC-Easy', 'validation', opts()).catch((e) => e);
    expect(noSplit.message).toContain("config 'ARC-Easy' has splits train, not 'validation'");
  });

  it('finds json/jsonl files by name without a card (train is not train_xs)', async () => {
    const train = await resolveDatasetFiles('someone/jsonl-set', undefined, 'train', opts());
    expect(train.map((f) => path.basename(f))).toEqual(['train.jsonl']);
    const xs = await resolveDatasetFiles('someone/jsonl-set', undefined, 'train_xs', opts());
    expect(xs.map((f) => path.basename(f))).toEqual(['train_xs.jsonl']);
  });

  it('falls back to the parquet conversion branch for script-based datasets', async () => {
    const log = memLog();
    const files = await resolveDatasetFiles('ybisk/piqa', undefined, 'train', { ...opts(), log });
    expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(['PAR1 t0', 'PAR1 t1']);
    expect(readFileSync(path.join(cacheDir, 'datasets--ybisk--piqa', 'refs', 'refs', 'convert', 'parquet'), 'utf8')).toMatch(/^[0-9a-f]{40}$/);
    expect(log.lines.join('\n')).toContain('refs/convert/parquet');
    expect(await resolveDatasetFiles('ybisk/piqa', undefined, 'train', { cacheDir, offline: true })).toEqual(files);
  });
});

describe('resolveHubSettings', () => {
  it('prefers options over environment over defaults', () => {
    const env = { HF_ENDPOINT: 'https://mirror.example/', HF_HOME: '/tmp/hfhome', HF_TOKEN: 'tok', BAYES_PEFT_OFFLINE: '1' };
    const s = resolveHubSettings({}, env);
    expect(s).toMatchObject({ endpoint: 'https://mirror.example', cacheDir: path.resolve('/tmp/hfhome/hub'), token: 'tok', offline: true, offlineReason: 'BAYES_PEFT_OFFLINE=1', revision: 'main' });
    expect(resolveHubSettings({ offline: false, cacheDir: '/c', endpoint: 'http://e' }, env)).toMatchObject({ offline: false, cacheDir: path.resolve('/c'), endpoint: 'http://e' });
    expect(resolveHubSettings({}, {}).endpoint).toBe('https://huggingface.co');
  });

  it('refuses a bad variable, naming it (the declarations of @bayes-peft/env)', () => {
    expect(() => resolveHubSettings({}, { HF_HUB_OFFLINE: 'sometimes' })).toThrow("HF_HUB_OFFLINE='sometimes' is not a flag");
    expect(() => resolveHubSettings({}, { HF_ENDPOINT: 'mirror.example' })).toThrow("HF_ENDPOINT='mirror.example' is not an http(s) URL");
    expect(resolveHubSettings({}, { HF_HUB_OFFLINE: 'true' }).offlineReason).toBe('HF_HUB_OFFLINE=true');
    expect(resolveHubSettings({}, { HF_HUB_CACHE: '/a', HF_HOME: '/b' }).cacheDir).toBe(path.resolve('/a'));
    expect(resolveHubSettings({}, { XDG_CACHE_HOME: '/x' }).cacheDir).toBe(path.resolve('/x/huggingface/hub'));
  });
});
