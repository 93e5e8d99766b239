import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { silentLogger } from '@bayes-peft/core';
import { findShared, startMockHub, type MockHub } from '@bayes-peft/fixtures';
import { HubOfflineError } from '@bayes-peft/hub';
import { NliModelError } from './errors';
import { graphCandidates, locateNliModel, modelKey } from './model-files';

const dir = findShared('models/tiny-nli', 'the NLI model folder tests');
const EXPORT_HINT = 'optimum-cli export onnx --model <id> --task text-classification <dir>';

describe('graph files looked for', () => {
  it('onnx/model.onnx then model.onnx; the quantized pair on request; onnxFile alone when given', () => {
    expect(graphCandidates({ quantized: false })).toEqual(['onnx/model.onnx', 'model.onnx']);
    expect(graphCandidates({ quantized: true })).toEqual(['onnx/model_quantized.onnx', 'model_quantized.onnx']);
    expect(graphCandidates({ quantized: true, onnxFile: './onnx/model_fp16.onnx' })).toEqual(['onnx/model_fp16.onnx']);
  });
});

(dir ? describe : describe.skip)('locating an NLI model', () => {
  const local = { specDir: '/', hub: { offline: true } };
  let tmp: string;
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-nli-files-'));
  });
  afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

  it('a local folder, relative to the spec folder', async () => {
    const specDir = path.dirname(dir!);
    const files = await locateNliModel({ model: './tiny-nli', quantized: false }, { ...local, specDir });
    expect(files).toEqual({ dir: dir!, graph: path.join(dir!, 'onnx', 'model.onnx'), where: dir! });
    // The same folder named two ways shares one loaded model.
    expect(modelKey({ model: './tiny-nli', quantized: false }, specDir, {})).toBe(modelKey({ model: dir!, quantized: false }, '/elsewhere', {}));
    expect(modelKey({ model: dir!, quantized: true }, '/', {})).not.toBe(modelKey({ model: dir!, quantized: false }, '/', {}));
  });

  it('a folder without the graph: the files looked for, the ones there, and how to export one', async () => {
    const err = await locateNliModel({ model: dir!, quantized: true }, local).catch((e) => e);
    expect(err).toBeInstanceOf(NliModelError);
    expect(err.message).toBe(
      `NLI model ${dir}: no ONNX graph: looked for onnx/model_quantized.onnx and model_quantized.onnx; it has onnx/model.onnx (choose one with onnxFile). ` +
        `Export the model with Optimum: ${EXPORT_HINT} (or use an ONNX repo such as Xenova/nli-deberta-v3-base)`,
    );
    const bare = path.join(tmp, 'no-graph');
    await fs.mkdir(bare);
    for (const f of ['config.json', 'tokenizer.json']) await fs.symlink(path.join(dir!, f), path.join(bare, f));
    const none = await locateNliModel({ model: bare, quantized: false }, local).catch((e) => e);
    expect(none.message).toContain('no ONNX graph: looked for onnx/model.onnx and model.onnx. Export the model with Optimum');
    expect(none.message).toContain(EXPORT_HINT);
  });

  it('onnxFile picks the graph; external data beside it is refused with a reason', async () => {
    const files = await locateNliModel({ model: dir!, quantized: true, onnxFile: 'onnx/model.onnx' }, local);
    expect(files.graph).toBe(path.join(dir!, 'onnx', 'model.onnx'));
    const ext = path.join(tmp, 'external');
    await fs.mkdir(path.join(ext, 'onnx'), { recursive: true });
    for (const f of ['config.json', 'tokenizer.json', 'onnx/model.onnx']) await fs.symlink(path.join(dir!, f), path.join(ext, f));
    await fs.writeFile(path.join(ext, 'onnx', 'model.onnx_data'), '');
    await expect(locateNliModel({ model: ext, quantized: false }, local)).rejects.toThrow(/onnx\/model.onnx keeps its weights in a separate file \(ONNX external data\)/);
  });

  it('a folder without tokenizer.json says so, and how to make one when it has the SentencePiece model', async () => {
    const noTok = path.join(tmp, 'no-tokenizer');
    await fs.mkdir(noTok);
    for (const f of ['config.json', 'spm.model', 'onnx']) await fs.symlink(path.join(dir!, f), path.join(noTok, f));
    await expect(locateNliModel({ model: noTok, quantized: false }, local)).rejects.toThrow(/has no tokenizer.json \(only the SentencePiece model; save the fast tokenizer/);
  });

  it('a missing folder that is not a hub id', async () => {
    await expect(locateNliModel({ model: './nowhere', quantized: false }, local)).rejects.toThrow(`NLI model ${path.resolve('/', 'nowhere')}: no such folder (and not a hub id of the form org/name)`);
  });
});

(dir ? describe : describe.skip)('an NLI model from the hub', () => {
  const REPO = 'org/tiny-nli-onnx';
  let hub: MockHub;
  let cacheDir: string;
  const online = () => ({ specDir: '/', hub: { endpoint: hub.endpoint, cacheDir, offline: false }, log: silentLogger });
  const offline = (cache = cacheDir) => ({ specDir: '/', hub: { endpoint: 'http://127.0.0.1:9', cacheDir: cache, offline: true }, log: silentLogger });
  const file = (f: string) => readFileSync(path.join(dir!, f));

  beforeAll(async () => {
    const files = {
      'config.json': file('config.json'),
      'tokenizer.json': file('tokenizer.json'),
      'tokenizer_config.json': file('tokenizer_config.json'),
      'onnx/model.onnx': file('onnx/model.onnx'),
      'README.md': '# tiny nli',
    };
    hub = await startMockHub([
      { type: 'model', id: REPO, revisions: { main: { files } } },
      { type: 'model', id: 'org/pytorch-only', revisions: { main: { files: { 'config.json': file('config.json'), 'tokenizer.json': file('tokenizer.json'), 'model.safetensors': 'x' } } } },
    ]);
    cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-nli-cache-'));
  });
  afterAll(async () => {
    await hub.close().catch(() => undefined);
    await fs.rm(cacheDir, { recursive: true, force: true });
  });

  it('fetches config, tokenizer files and the graph (not the rest) into the hub cache', async () => {
    const files = await locateNliModel({ model: REPO, quantized: false }, online());
    const commit = readFileSync(path.join(cacheDir, 'models--org--tiny-nli-onnx', 'refs', 'main'), 'utf8');
    expect(files.dir).toBe(path.join(cacheDir, 'models--org--tiny-nli-onnx', 'snapshots', commit));
    expect(files.graph).toBe(path.join(files.dir, 'onnx', 'model.onnx'));
    expect(readFileSync(files.graph)).toEqual(file('onnx/model.onnx'));
    const fetched = new Set(hub.requests.filter((r) => r.includes('/resolve/')).map((r) => r.replace(/^.*\/resolve\/[^/]+\//, '')));
    expect([...fetched].sort()).toEqual(['config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json']);
  });

  it('offline, the cached model is used without a request; an uncached one is a clear offline error', async () => {
    const before = hub.requests.length;
    const files = await locateNliModel({ model: REPO, quantized: false }, offline());
    expect(files.graph.endsWith(path.join('onnx', 'model.onnx'))).toBe(true);
    expect(hub.requests.length).toBe(before);
    // The quantized graph was never fetched: the offline error names the files looked for.
    await expect(locateNliModel({ model: REPO, quantized: true }, offline())).rejects.toThrow(/looked for onnx\/model_quantized.onnx and model_quantized.onnx; it has onnx\/model.onnx .*\(offline: only the hub cache/);
    const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-nli-empty-'));
    try {
      const err = await locateNliModel({ model: REPO, quantized: false }, offline(empty)).catch((e) => e);
      expect(err).toBeInstanceOf(HubOfflineError);
      expect(err.message).toContain(`'${REPO}'`);
    } finally {
      await fs.rm(empty, { recursive: true, force: true });
    }
  });

  it('a repo without an ONNX graph names the files looked for and the export command', async () => {
    const err = await locateNliModel({ model: 'org/pytorch-only', quantized: false }, online()).catch((e) => e);
    expect(err).toBeInstanceOf(NliModelError);
    expect(err.message).toContain("NLI model 'org/pytorch-only' (revision main): no ONNX graph: looked for onnx/model.onnx and model.onnx.");
    expect(err.message).toContain(EXPORT_HINT);
  });
});
