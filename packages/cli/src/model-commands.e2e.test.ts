import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { findShared, startMockHub } from '@bayes-peft/fixtures';
import { runCli, tempDir } from './cli.test-support';

// `logits` and `generate` against the PyTorch goldens, from a local folder and through a
// local stand-in for the hub (then offline from its cache).
const shared = findShared('', 'the logits/generate command tests');
const d = shared ? describe : describe.skip;

interface GoldenRow {
  text: string | null;
  ids: number[];
  base_last_logits: number[];
  lora_last_logits: number[];
  base_greedy_ids: number[];
}

d('bayes-peft logits / generate', () => {
  let model: string;
  let golden: { rows: GoldenRow[] };
  let dir: string;

  beforeAll(async () => {
    model = path.join(shared!, 'models', 'stories260K');
    golden = JSON.parse(await fs.readFile(path.join(shared!, 'fixtures', 'stories260K-golden', 'logits.json'), 'utf8'));
    dir = await tempDir('model-cmds');
  });

  const maxAbsDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

  it('logits: text rows and id rows, with and without the golden PEFT adapter, match PyTorch within 1e-4', async () => {
    const input = path.join(dir, 'in.jsonl');
    const rows = golden.rows.map((r, i) => (i % 2 === 0 ? { text: r.text } : { ids: r.ids }));
    await fs.writeFile(input, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    for (const [adapter, key] of [
      [null, 'base_last_logits'],
      [path.join(shared!, 'fixtures', 'stories260K-golden', 'adapter'), 'lora_last_logits'],
    ] as const) {
      const out = path.join(dir, `out-${key}.jsonl`);
      const res = await runCli('logits', '--model', model, ...(adapter ? ['--adapter', adapter] : []), '--input', input, '--out', out, '--batch-size', '3');
      expect(res.code).toBe(0);
      const got = (await fs.readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      expect(got).toHaveLength(golden.rows.length);
      got.forEach((row, i) => {
        expect(row.ids).toEqual(golden.rows[i].ids);
        expect(row.last_logits).toHaveLength(512);
        expect(maxAbsDiff(row.last_logits, golden.rows[i][key])).toBeLessThan(1e-4);
      });
    }
  });

  it('logits: a bad input row names the file and the line', async () => {
    const input = path.join(dir, 'bad.jsonl');
    await fs.writeFile(input, '{"text": "ok"}\n{"idz": [1, 2]}\n');
    const res = await runCli('logits', '--model', model, '--input', input, '--out', path.join(dir, 'x.jsonl'));
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/bad\.jsonl line 2: expected \{"text": string\} or \{"ids"/);
  });

  it('generate --json: greedy continuation equals the golden tokens, ids include the prompt', async () => {
    const row = golden.rows[0];
    const newTokens = row.base_greedy_ids.length - row.ids.length;
    const res = await runCli('generate', '--model', model, '--prompt', row.text!, '--max-new-tokens', String(newTokens), '--temperature', '0', '--json');
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.ids).toEqual(row.base_greedy_ids);
    expect(out.text.startsWith(row.text!)).toBe(true);
    expect(out.text.length).toBeGreaterThan(row.text!.length);
  });

  it('generate: sampling is reproducible from --seed', async () => {
    const args = ['generate', '--model', model, '--prompt', 'Once upon a time', '--max-new-tokens', '12', '--temperature', '0.9', '--top-p', '0.9', '--json'];
    const a = JSON.parse((await runCli(...args, '--seed', '5')).stdout);
    const b = JSON.parse((await runCli(...args, '--seed', '5')).stdout);
    expect(a.ids).toEqual(b.ids);
    expect(a.ids.length).toBeGreaterThan(5);
    // onnxruntime decodes the same tokens from the same seed; a bad engine name is a clear error.
    const c = JSON.parse((await runCli(...args, '--seed', '5', '--engine', 'onnxruntime')).stdout);
    expect(c.ids).toEqual(a.ids);
    const bad = await runCli(...args, '--engine', 'torch');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--engine must be tfjs or onnxruntime, got 'torch'");
  });

  it('loads a hub id through HF_ENDPOINT into the cache, then offline from the cache', async () => {
    const hub = await startMockHub([{ type: 'model', id: 'karpathy/stories260K', revisions: { main: { files: model } } }]);
    const cache = path.join(dir, 'hub-cache');
    const env = { HF_ENDPOINT: process.env.HF_ENDPOINT, BAYES_PEFT_CACHE: process.env.BAYES_PEFT_CACHE };
    process.env.HF_ENDPOINT = hub.endpoint;
    process.env.BAYES_PEFT_CACHE = cache;
    try {
      const row = golden.rows[1];
      const args = ['generate', '--model', 'karpathy/stories260K', '--prompt', row.text!, '--max-new-tokens', '4', '--json'];
      const online = await runCli(...args);
      expect(online.code).toBe(0);
      expect(JSON.parse(online.stdout).ids).toEqual(row.base_greedy_ids.slice(0, row.ids.length + 4));
      expect(hub.requests.some((r) => r.includes('/karpathy/stories260K/resolve/'))).toBe(true);
      await hub.close();

      const offline = await runCli(...args, '--offline');
      expect(offline.code).toBe(0);
      expect(JSON.parse(offline.stdout).ids).toEqual(row.base_greedy_ids.slice(0, row.ids.length + 4));

      const missing = await runCli('generate', '--model', 'karpathy/not-cached', '--prompt', 'x', '--offline');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/offline/i);
      expect(missing.stderr).toMatch(/karpathy\/not-cached/);
    } finally {
      process.env.HF_ENDPOINT = env.HF_ENDPOINT;
      process.env.BAYES_PEFT_CACHE = env.BAYES_PEFT_CACHE;
      if (env.HF_ENDPOINT === undefined) delete process.env.HF_ENDPOINT;
      if (env.BAYES_PEFT_CACHE === undefined) delete process.env.BAYES_PEFT_CACHE;
    }
  });

  it('plugins lists the built-ins with kind and version', async () => {
    const res = await runCli('plugins', '--json');
    expect(res.code).toBe(0);
    const rows = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'wrapper', name: 'blob', version: require('@bayes-peft/wrapper-blob/package.json').version, package: '@bayes-peft/wrapper-blob' })]));
    expect(rows.map((r) => r.kind)).toEqual(expect.arrayContaining(['backbone', 'wrapper', 'dataset']));
  });
});
