import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeTinyLlama } from '@bayes-peft/fixtures';
import { LocalCluster, slurmUnavailable, waitFor } from './local-cluster.test-support';

// `bayes-peft submit slurm` against a real Slurm: Debian's slurmctld, slurmd and munged as one
// node on this machine (2 CPUs, 2 fake GPUs, MaxArraySize 5 so that the 7 runs of
// examples/methods.yaml need two arrays). The runs must end exactly as a local run of the same
// spec in the same environment ends (the jobs get the test's environment, as sbatch exports the
// submitter's: OpenBLAS settings such as OPENBLAS_CORETYPE move the last digits), and a run
// cancelled mid-training must resume from its checkpoint when resubmitted.

const REPO = path.resolve(__dirname, '..', '..', '..');
const BIN = path.join(REPO, 'packages', 'cli', 'bin', 'bayes-peft.js');

const SLURM_OPTIONS = ['--max-parallel', '2', '--gpus-per-run', '1', '--time', '10:00'];

const skip = slurmUnavailable();
if (skip) process.stderr.write(`slurm.e2e.test.ts skipped: ${skip}\n`);
const describeSlurm = skip ? describe.skip : describe;

interface Cli {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI in `cwd` with the cluster's environment, bounded. */
function cli(cluster: LocalCluster, cwd: string, args: string[], timeoutMs = 120_000): Promise<Cli> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cluster.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** examples/methods.yaml with its output (`<dir>/<output>`), model and TFB adapter as absolute paths, so it runs from anywhere. */
async function methodsSpec(dir: string, model: string, output: string): Promise<string> {
  let text = await fs.readFile(path.join(REPO, 'examples', 'methods.yaml'), 'utf8');
  const runs = path.join(dir, output);
  const edits: [RegExp, string][] = [
    [/^name: methods$/m, `name: methods\noutput: ${runs}`],
    [/^  path: \.models\/tiny-llama$/m, `  path: ${model}`],
    [/adapter: \.\.\/runs\/methods\/mle-toy-seed1\/adapter$/m, `adapter: ${path.join(runs, 'methods', 'mle-toy-seed1', 'adapter')}`],
  ];
  for (const [pattern, replacement] of edits) {
    if (!pattern.test(text)) throw new Error(`examples/methods.yaml has no line matching ${pattern}: update this test's copy of it`);
    text = text.replace(pattern, replacement);
  }
  const file = path.join(dir, `methods-${output}.yaml`);
  await fs.writeFile(file, text);
  return file;
}

const jobIds = (out: string) => out.trim().split('\n').filter(Boolean);

describeSlurm('bayes-peft submit slurm on a real one-node Slurm (end to end)', () => {
  let dir: string;
  let cluster: LocalCluster;
  let spec: string;
  let localSpec: string;
  let runsDir: string;
  let runIds: string[];
  let started: number;

  beforeAll(async () => {
    started = Date.now();
    if (!existsSync(path.join(REPO, 'packages', 'cli', 'dist', 'main.js')) || !existsSync(path.join(__dirname, '..', 'dist', 'index.js'))) {
      throw new Error('this test runs the built CLI: run `pnpm build` first');
    }
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bayes-peft-slurm-e2e-'));
    await fs.chmod(dir, 0o755);
    cluster = new LocalCluster(dir);
    await cluster.start({ maxArraySize: 5, gpus: 2 });
    const model = path.join(dir, 'tiny-llama');
    await makeTinyLlama(model, 'tiny');
    spec = await methodsSpec(dir, model, 'runs');
    localSpec = await methodsSpec(dir, model, 'local-runs');
    runsDir = path.join(dir, 'runs', 'methods');
    const list = await cli(cluster, dir, ['experiment', spec, '--list', '--json']);
    expect(list.stderr).toBe('');
    runIds = list.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    process.stderr.write(`slurm e2e: cluster up and spec planned in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }, 120_000);

  afterAll(async () => {
    // Every daemon and job is stopped even when a test failed; the folder goes only then.
    if (cluster) await cluster.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
    process.stderr.write(`slurm e2e: ${((Date.now() - started) / 1000).toFixed(1)} s in all\n`);
  }, 60_000);

  const results = (id: string) => path.join(runsDir, id, 'results.json');
  const readResults = async (id: string) => JSON.parse(await fs.readFile(results(id), 'utf8')) as { metrics: Record<string, number> };

  it('runs the 7 methods as two chained arrays, at most 2 at a time, to the metrics of a local run', async () => {
    const t0 = Date.now();
    // The local reference runs beside the arrays: the same CPU work in all, less waiting.
    const local = cli(cluster, dir, ['experiment', localSpec, '--no-progress', '--no-report'], 480_000);
    const submit = await cli(cluster, dir, ['submit', 'slurm', spec, ...SLURM_OPTIONS]);
    expect({ code: submit.code, stderr: submit.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('submitted 5 runs as job') });
    const [first, second] = jobIds(submit.stdout);
    expect(jobIds(submit.stdout)).toHaveLength(2);
    // MaxArraySize 5: runs 0-4 in part 1, runs 5-6 in part 2, which waits for part 1 to end.
    const slurmDir = path.join(runsDir, 'slurm');
    expect(await fs.readFile(path.join(slurmDir, 'methods.part1.sbatch'), 'utf8')).toContain('#SBATCH --array=0-4%2\n');
    expect(await fs.readFile(path.join(slurmDir, 'methods.part2.sbatch'), 'utf8')).toContain('#SBATCH --array=0-1%2\n');
    expect(cluster.command('scontrol', ['show', 'job', second])).toMatch(new RegExp(`Dependency=afterany:${first}(?:_\\*)?\\(`));

    // Until every run has its results.json: never more than 2 tasks running (%2, 2 CPUs, 2 GPUs).
    let mostRunning = 0;
    await waitFor('every run to write results.json', 480_000, async () => {
      const running = cluster.command('squeue', ['-h', '-t', 'R', '-o', '%i']).trim().split('\n').filter(Boolean).length;
      mostRunning = Math.max(mostRunning, running);
      const done = runIds.filter((id) => existsSync(results(id))).length;
      return done === runIds.length ? true : undefined;
    }, 1000);
    process.stderr.write(`slurm e2e: 7 runs as Slurm arrays in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    expect(mostRunning).toBeGreaterThanOrEqual(1);
    expect(mostRunning).toBeLessThanOrEqual(2);

    // The spec run again now skips every run and prints the table from their results: the
    // local run's table, and every metric of every run equal to the last digit.
    const [table, reference] = [await cli(cluster, dir, ['experiment', spec, '--no-progress', '--no-report']), await local];
    expect({ code: table.code, reference: reference.code }).toEqual({ code: 0, reference: 0 });
    process.stderr.write(`slurm e2e: the table of the runs on Slurm\n${table.stdout.trim()}\n`);
    expect(table.stdout.trim()).toBe(reference.stdout.trim());
    expect(table.stdout).toContain('blob ');
    for (const id of runIds) {
      const localResults = JSON.parse(await fs.readFile(path.join(dir, 'local-runs', 'methods', id, 'results.json'), 'utf8')) as { metrics: Record<string, number> };
      expect({ id, metrics: (await readResults(id)).metrics }).toEqual({ id, metrics: localResults.metrics });
    }

    // Each task's logs, copied into its run folder when it ended: the run's own log lines.
    const mleErr = await fs.readFile(path.join(runsDir, 'mle-toy-seed1', `slurm-${first}_0.err`), 'utf8');
    expect(mleErr).toContain('[1/1] mle-toy-seed1 (run index 0)');
    const tfbOut = await fs.readFile(path.join(runsDir, 'tfb-toy-seed1', `slurm-${second}_1.out`), 'utf8');
    expect(tfbOut).toMatch(new RegExp(`^bayes-peft: run 6 of 7 \\(tfb-toy-seed1\\), job ${second}_1 on `));
  }, 540_000);

  it('a run cancelled mid-training (scancel <job>_<index>) and resubmitted with --only-pending resumes from its checkpoint to the same metrics', async () => {
    const t0 = Date.now();
    const index = runIds.indexOf('blob-toy-seed1');
    expect(index).toBeGreaterThanOrEqual(0);
    const expected = (await readResults('blob-toy-seed1')).metrics;
    const runDir = path.join(runsDir, 'blob-toy-seed1');
    await fs.rm(runDir, { recursive: true });

    const submit = await cli(cluster, dir, ['submit', 'slurm', spec, '--index', String(index), ...SLURM_OPTIONS]);
    expect(submit.code).toBe(0);
    const [job] = jobIds(submit.stdout);

    // Cancel once training is under way (past step 20 of 300): Slurm's SIGTERM makes the run
    // checkpoint after its current step and stop, marked interrupted.
    const metrics = path.join(runDir, 'metrics.jsonl');
    await waitFor('blob to pass training step 20', 120_000, async () => {
      const text = await fs.readFile(metrics, 'utf8').catch(() => '');
      return (text.match(/"phase":"train"/g) ?? []).length > 20 ? true : undefined;
    }, 50);
    cluster.command('scancel', [`${job}_${index}`]);
    await waitFor('the cancelled task to leave the queue', 60_000, () => (cluster.command('squeue', ['-h', '-j', job, '-o', '%i']).trim() === '' ? true : undefined), 500);
    const status = JSON.parse(await fs.readFile(path.join(runDir, 'status.json'), 'utf8')) as { state: string };
    const checkpoint = JSON.parse(await fs.readFile(path.join(runDir, 'adapter', 'checkpoint.json'), 'utf8')) as { step: number };
    expect({ state: status.state, results: existsSync(results('blob-toy-seed1')) }).toEqual({ state: 'interrupted', results: false });
    expect(checkpoint.step).toBeGreaterThan(20);
    expect(checkpoint.step).toBeLessThan(300);
    // The task's shell outlived the run's SIGTERM and copied the logs into the run folder.
    expect(await fs.readFile(path.join(runDir, `slurm-${job}_${index}.err`), 'utf8')).toContain('interrupting after the current step');

    // Every other run is done: --only-pending submits this one alone.
    const again = await cli(cluster, dir, ['submit', 'slurm', spec, '--only-pending', ...SLURM_OPTIONS]);
    expect(again.code).toBe(0);
    const [resumed] = jobIds(again.stdout);
    expect(await fs.readFile(path.join(runsDir, 'slurm', 'methods.sbatch'), 'utf8')).toContain(`#SBATCH --array=${index}%2\n`);
    await waitFor('the resubmitted run to write results.json', 180_000, () => (existsSync(results('blob-toy-seed1')) ? true : undefined), 500);
    await waitFor('the resubmitted task to end', 30_000, () => (cluster.command('squeue', ['-h', '-j', resumed, '-o', '%i']).trim() === '' ? true : undefined), 500);
    const log = await fs.readFile(path.join(runDir, `slurm-${resumed}_${index}.err`), 'utf8');
    expect(log).toContain(`resuming from the checkpoint at step ${checkpoint.step} of 300`);
    expect((await readResults('blob-toy-seed1')).metrics).toEqual(expected);
    process.stderr.write(`slurm e2e: cancel, resubmit and resume in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }, 300_000);
});
