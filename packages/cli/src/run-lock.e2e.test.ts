import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli, tempDir, tinyModel } from './cli.test-support';

// Two claimants of one run (two processes started together on the same spec) never both train
// it: the run folder's run.lock lets one in, the other skips it ("running elsewhere") or, with
// --wait, waits and then finds it complete. A stale lock (its process gone, or its heartbeat
// old) is taken over.

const BIN = path.resolve(__dirname, '..', 'bin', 'bayes-peft.js');
// Long enough (a few seconds of training) that two processes started together overlap even on a busy machine.
const STEPS = 100;

function spec(model: string, output: string, name: string): string {
  return `
name: ${name}
seed: 2
output: ${output}
model: { path: ${model} }
dataset: { plugin: toy, options: { trainSize: 64, testSize: 16 } }
lora: { r: 4, alpha: 8, targets: [q_proj, v_proj] }
train: { steps: ${STEPS}, batchSize: 8, lr: 0.01, maxSeqLen: 48, evalEvery: 50 }
eval: { batchSize: 16 }
wrapper: mle
`;
}

const children = new Set<ChildProcess>();

/** `bayes-peft experiment <spec> ...args` in a child process; resolves with its exit code and output. */
function experiment(specFile: string, ...args: string[]): Promise<{ code: number | null; output: string }> & { child: ChildProcess } {
  const child = spawn(process.execPath, [BIN, 'experiment', specFile, '--no-progress', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child);
      resolve({ code, output });
    }),
  );
  return Object.assign(exited, { child });
}

/** The training steps metrics.jsonl records, in order (each once when a single process trained). */
async function trainSteps(run: string): Promise<number[]> {
  const text = await fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.phase === 'train')
    .map((r) => r.step);
}

const allSteps = Array.from({ length: STEPS }, (_, i) => i + 1);

describe('run lock (end to end)', () => {
  let dir: string;
  let model: string;

  beforeAll(async () => {
    if (!existsSync(path.join(__dirname, '..', 'dist', 'main.js'))) throw new Error('this test runs the CLI from dist/: run `pnpm build` first');
    dir = await tempDir('run-lock');
    model = await tinyModel(dir);
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  async function writeSpec(name: string): Promise<{ file: string; run: string }> {
    const file = path.join(dir, `${name}.yaml`);
    await fs.writeFile(file, spec(model, path.join(dir, 'runs'), name));
    return { file, run: path.join(dir, 'runs', name, 'mle-toy-seed2') };
  }

  it('two processes started together: exactly one trains the run, the other says it runs elsewhere', async () => {
    const { file, run } = await writeSpec('together');
    const [a, b] = await Promise.all([experiment(file), experiment(file)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const elsewhere = [a, b].filter((r) => /running elsewhere \(\S+ pid \d+\); skipped/.test(r.output));
    const trained = [a, b].filter((r) => r.output.includes(`training: ${STEPS} steps`));
    expect({ elsewhere: elsewhere.length, trained: trained.length }).toEqual({ elsewhere: 1, trained: 1 });
    expect(elsewhere[0]).not.toBe(trained[0]);
    expect(elsewhere[0].output).toContain('1 run is running elsewhere');
    // One training log, each step once; the lock is gone.
    expect(await trainSteps(run)).toEqual(allSteps);
    expect((await fs.readdir(run)).sort()).toEqual(['adapter', 'env.json', 'metrics.jsonl', 'predictions.jsonl', 'results.json', 'spec.resolved.yaml', 'status.json']);
  }, 90_000);

  it('with --wait the second claimant waits for the first and then finds the run complete', async () => {
    const { file, run } = await writeSpec('waiting');
    const [a, b] = await Promise.all([experiment(file, '--wait'), experiment(file, '--wait')]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const waited = [a, b].filter((r) => r.output.includes('waiting for it (--wait)'));
    expect(waited).toHaveLength(1);
    expect(waited[0].output).toContain('complete already');
    expect(waited[0].output).not.toContain(`training: ${STEPS} steps`);
    expect(await trainSteps(run)).toEqual(allSteps);
  }, 90_000);

  it('SIGTERM (a scheduler stopping the task) checkpoints, marks the run interrupted and releases the lock; the next claimant resumes', async () => {
    const { file, run } = await writeSpec('sigterm');
    const first = experiment(file);
    // Stop it once training is past the first checkpoint (step 50).
    const deadline = Date.now() + 60_000;
    while ((await trainSteps(run).catch(() => [])).length <= 55 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    first.child.kill('SIGTERM');
    const stopped = await first;
    expect(stopped.code).toBe(1);
    expect(stopped.output).toMatch(/interrupted after step \d+ of 100; a checkpoint was saved/);
    expect(JSON.parse(await fs.readFile(path.join(run, 'status.json'), 'utf8')).state).toBe('interrupted');
    expect(existsSync(path.join(run, 'run.lock'))).toBe(false);
    const again = await experiment(file);
    expect(again.code).toBe(0);
    expect(again.output).toMatch(/resuming from the checkpoint at step \d+ of 100/);
    expect(again.output).not.toContain('took over');
    expect(await trainSteps(run)).toEqual(allSteps);
  }, 90_000);

  it('a stale lock of a process that is gone is taken over at once, and the run trains', async () => {
    const { file, run } = await writeSpec('dead-pid');
    const pid = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8', timeout: 10_000 }).stdout);
    await fs.mkdir(run, { recursive: true });
    const then = new Date().toISOString();
    await fs.writeFile(path.join(run, 'run.lock'), JSON.stringify({ host: os.hostname(), pid, started: then, heartbeat: then, token: 'dead' }));
    const res = await runCli('experiment', file, '--no-progress');
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(`took over the stale lock of ${os.hostname()} pid ${pid} (process ${pid} is gone)`);
    expect(await trainSteps(run)).toEqual(allSteps);
    expect(existsSync(path.join(run, 'run.lock'))).toBe(false);
  }, 60_000);

  it("another machine's lock is respected while its heartbeat is recent and taken over once it is older than the stale age", async () => {
    const { file, run } = await writeSpec('old-heartbeat');
    await fs.mkdir(run, { recursive: true });
    const lock = (heartbeat: Date) => JSON.stringify({ host: 'gpu-node-12', pid: 777, started: heartbeat.toISOString(), heartbeat: heartbeat.toISOString(), token: 'remote' });
    await fs.writeFile(path.join(run, 'run.lock'), lock(new Date()));
    const skipped = await runCli('experiment', file, '--no-progress', '--json');
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toContain('running elsewhere (gpu-node-12 pid 777); skipped');
    expect(JSON.parse(skipped.stdout)).toMatchObject({ id: 'mle-toy-seed2', skipped: 'locked', metrics: {} });
    expect(await fs.readdir(run)).toEqual(['run.lock']);

    // Six minutes without a heartbeat: past the default stale age of five.
    await fs.writeFile(path.join(run, 'run.lock'), lock(new Date(Date.now() - 6 * 60_000)));
    const res = await runCli('experiment', file, '--no-progress');
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('took over the stale lock of gpu-node-12 pid 777 (its heartbeat is 6 min old)');
    expect(await trainSteps(run)).toEqual(allSteps);
    expect(existsSync(path.join(run, 'run.lock'))).toBe(false);
  }, 60_000);
});
