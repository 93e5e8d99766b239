import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli, tempDir, tinyModel } from './cli.test-support';

// Run addressing (--list, --index, --shard), `bayes-peft status` and `bayes-peft collect` on a
// five-run matrix: one run really run through --index, the others' folders in every other
// state a shared runs folder can hold.

const IDS = [1, 2, 3, 4, 5].map((s) => `mle-toy-seed${s}`);

describe('run addressing, status and collect (end to end)', () => {
  let dir: string;
  let specFile: string;
  let runs: string;
  const runDir = (i: number) => path.join(runs, 'grid', IDS[i]);

  beforeAll(async () => {
    dir = await tempDir('status');
    const model = await tinyModel(dir);
    runs = path.join(dir, 'runs');
    specFile = path.join(dir, 'grid.yaml');
    await fs.writeFile(
      specFile,
      `name: grid
output: ${runs}
model: { path: ${model} }
dataset: { plugin: toy, options: { trainSize: 32, testSize: 16 } }
lora: { r: 4, alpha: 8, targets: [q_proj, v_proj] }
train: { steps: 4, batchSize: 8, lr: 0.01, maxSeqLen: 48 }
eval: { batchSize: 16 }
wrapper: mle
matrix:
  seed: [1, 2, 3, 4, 5]
`,
    );
  });

  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('--list prints the run ids in plan order, --json with index and folder, a shard its share', async () => {
    const list = await runCli('experiment', specFile, '--list');
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(IDS.map((id) => `${id}\n`).join(''));
    const json = await runCli('experiment', specFile, '--list', '--json', '--shard', '1/2');
    expect(json.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { index: 1, id: IDS[1], dir: runDir(1) },
      { index: 3, id: IDS[3], dir: runDir(3) },
    ]);
  });

  it('bad selections are refused with what is wrong', async () => {
    const unknown = await runCli('experiment', specFile, '--run', 'blob-toy-seed1');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`error: no run 'blob-toy-seed1' in this spec; its runs are ${IDS.join(', ')}\n`);
    const range = await runCli('experiment', specFile, '--index', '5');
    expect(range.stderr).toBe('error: run index 5 is out of range: this spec has 5 runs (indexes 0 to 4)\n');
    const shard = await runCli('experiment', specFile, '--shard', '2/2');
    expect(shard.stderr).toBe("error: shard '2/2' is not i/n with 0 <= i < n (0-based: 0/4 .. 3/4)\n");
    const index = await runCli('experiment', specFile, '--index', 'one');
    expect(index.code).not.toBe(0);
    expect(index.stderr).toMatch(/a run index is a whole number from 0/);
    expect(await fs.readdir(runs).catch(() => [])).toEqual([]);
  });

  it('status and collect read every state from the run folders', async () => {
    // Run 0 for real, and only it.
    const ran = await runCli('experiment', specFile, '--index', '0', '--no-progress', '--json');
    expect(ran.code).toBe(0);
    expect(ran.stderr).toContain('[1/1] mle-toy-seed1 (run index 0)');
    expect(JSON.parse(ran.stdout)).toMatchObject({ id: IDS[0], skipped: false });
    expect(await fs.readdir(path.join(runs, 'grid'))).toEqual([IDS[0]]);

    // Run 1 failed; run 2 was killed (status.json still says running, its process is gone);
    // run 3 runs on another machine now; run 4 never started.
    const write = async (i: number, file: string, value: unknown) => {
      await fs.mkdir(path.dirname(path.join(runDir(i), file)), { recursive: true });
      await fs.writeFile(path.join(runDir(i), file), JSON.stringify(value));
    };
    const now = new Date().toISOString();
    await write(1, 'status.json', { state: 'failed', updated: now, error: 'non-finite loss at step 3' });
    const deadPid = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8', timeout: 10_000 }).stdout);
    await write(2, 'status.json', { state: 'running', updated: now });
    await write(2, 'run.lock', { host: os.hostname(), pid: deadPid, started: now, heartbeat: now, token: 'x' });
    await write(2, 'adapter/checkpoint.json', { step: 2 });
    // how far each got: metrics.jsonl's train lines (the last one cut off by the kill)
    const trainLines = (steps: number) => Array.from({ length: steps }, (_, i) => `${JSON.stringify({ phase: 'train', step: i + 1, epoch: 0, loss: 1 })}\n`).join('');
    await fs.writeFile(path.join(runDir(2), 'metrics.jsonl'), `${trainLines(3)}{"phase":"train","step":4,"ep`);
    await fs.mkdir(runDir(3), { recursive: true });
    await fs.writeFile(path.join(runDir(3), 'metrics.jsonl'), trainLines(1));
    await write(3, 'run.lock', { host: 'gpu-node-3', pid: 99, started: now, heartbeat: now, token: 'y' });

    const table = await runCli('status', specFile);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^index\s+run\s+state\s+detail$/);
    expect(lines[1]).toMatch(/^0\s+mle-toy-seed1\s+done$/);
    expect(lines[2]).toMatch(/^1\s+mle-toy-seed2\s+failed\s+non-finite loss at step 3$/);
    expect(lines[3]).toMatch(
      new RegExp(`^2\\s+mle-toy-seed3\\s+interrupted\\s+stopped without marking the run \\(killed, or its machine failed\\); its lock \\(${os.hostname()} pid ${deadPid}\\) is stale: process ${deadPid} is gone; step 3 of 4; checkpoint at step 2$`),
    );
    expect(lines[4]).toMatch(/^3\s+mle-toy-seed4\s+running\s+gpu-node-3 pid 99, heartbeat \d+ s ago; step 1 of 4$/);
    expect(lines[5]).toMatch(/^4\s+mle-toy-seed5\s+pending$/);
    expect(lines.at(-1)).toBe('5 runs: 1 done, 1 running, 1 failed, 1 interrupted, 1 pending');

    const json = (await runCli('status', specFile, '--json')).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(json.map((r) => [r.index, r.id, r.dir, r.state])).toEqual(IDS.map((id, i) => [i, id, runDir(i), ['done', 'failed', 'interrupted', 'running', 'pending'][i]]));
    expect(json[3].holder).toMatchObject({ host: 'gpu-node-3', pid: 99 });
    expect(json.map((r) => [r.steps, r.step, r.checkpointStep])).toEqual([[4, undefined, undefined], [4, undefined, undefined], [4, 3, 2], [4, 1, undefined], [4, undefined, undefined]]);

    // collect: the table of the complete run, the missing ones named, a CSV of its metrics.
    const csvFile = path.join(dir, 'out', 'results.csv');
    const collected = await runCli('collect', specFile, '--csv', csvFile);
    expect(collected.code).toBe(0);
    expect(collected.stdout).toMatch(/^method\s+dataset\s+runs\s+ACC\s+ECE\s+NLL\s+Brier\n/);
    expect(collected.stdout).toMatch(/\nmle\s+toy\s+1\s+\d\.\d{4}/);
    expect(collected.stderr).toContain(`1 of 5 runs complete; 4 missing: ${IDS.slice(1).join(', ')}`);
    const results = JSON.parse(await fs.readFile(path.join(runDir(0), 'results.json'), 'utf8'));
    const [header, row, ...rest] = (await fs.readFile(csvFile, 'utf8')).split('\n');
    expect(rest).toEqual(['']);
    const keys = header.split(',');
    expect(keys.slice(0, 5)).toEqual(['id', 'wrapper', 'dataset', 'model', 'seed']);
    expect(keys.slice(5).sort()).toEqual(Object.keys(results.metrics).sort());
    const cells = row.split(',');
    expect(cells.slice(0, 5)).toEqual([IDS[0], 'mle', 'toy', results.model, '1']);
    for (const [i, key] of keys.entries()) if (i >= 5) expect(Number(cells[i])).toBe(results.metrics[key]);
    // Written atomically: no temporary file beside it.
    expect(await fs.readdir(path.dirname(csvFile))).toEqual(['results.csv']);
  }, 60_000);
});
