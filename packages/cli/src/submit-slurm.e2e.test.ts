import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { runCli, tempDir } from './cli.test-support';

// `bayes-peft submit slurm` with sbatch replaced by a stub on PATH (a real Slurm runs the
// scripts in packages/slurm's slurm.e2e.test.ts): what is written where, what sbatch is given,
// which runs --index and --only-pending pick, and sbatch's refusals. The paper protocol's
// dry run is the script a cluster user reads.

const ROOT = path.resolve(__dirname, '..', '..', '..');
const IDS = [1, 2, 3, 4, 5].map((s) => `mle-toy-seed${s}`);

describe('bayes-peft submit slurm', () => {
  let dir: string;
  let specFile: string;
  let bin: string;
  let path0: string | undefined;
  const slurmDir = () => path.join(dir, 'runs', 'grid', 'slurm');
  const runDir = (i: number) => path.join(dir, 'runs', 'grid', IDS[i]);

  beforeAll(async () => {
    path0 = process.env.PATH;
    dir = await tempDir('submit-slurm');
    bin = path.join(dir, 'bin');
    await fs.mkdir(bin);
    specFile = path.join(dir, 'grid.yaml');
    // Planning reads no model: the path need not exist.
    await fs.writeFile(
      specFile,
      `name: grid
output: ${path.join(dir, 'runs')}
model: { path: ${path.join(dir, 'no-model')} }
dataset: { plugin: toy }
wrapper: mle
matrix:
  seed: [1, 2, 3, 4, 5]
`,
    );
  });

  afterEach(async () => {
    process.env.PATH = path0;
    await fs.rm(path.join(dir, 'runs'), { recursive: true, force: true });
    await fs.rm(path.join(bin, 'sbatch'), { force: true });
    await fs.rm(path.join(dir, 'sbatch.calls'), { force: true });
  });

  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  /** sbatch as a stub (shell builtins only): records each call's arguments, prints job ids 101, 102, ... */
  async function stubSbatch(body = `n=$(( $(wc -l < "${dir}/sbatch.calls" 2>/dev/null || echo 0) + 101 ))\necho "$*" >> "${dir}/sbatch.calls"\necho "$n;cluster1"`): Promise<void> {
    await fs.writeFile(path.join(bin, 'sbatch'), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    process.env.PATH = `${bin}:/usr/bin:/bin`;
  }
  const calls = async () => (await fs.readFile(path.join(dir, 'sbatch.calls'), 'utf8')).trim().split('\n');

  it('writes the script and the logs folder into the spec output folder, submits it with sbatch --parsable, prints the job id', async () => {
    await stubSbatch();
    const res = await runCli('submit', 'slurm', specFile, '--max-parallel', '2', '--time', '1:00:00', '--sbatch-arg', '--mem=4G', '--max-array-size', '1001');
    expect({ code: res.code, stdout: res.stdout }).toEqual({ code: 0, stdout: '101\n' });
    const file = path.join(slurmDir(), 'grid.sbatch');
    expect(await calls()).toEqual([`--parsable ${file}`]);
    expect(res.stderr).toContain(`submitted 5 runs as job 101 (${file})`);
    expect(existsSync(path.join(slurmDir(), 'logs'))).toBe(true);
    const script = await fs.readFile(file, 'utf8');
    expect(script).toContain('#SBATCH --array=0-4%2\n#SBATCH --time=1:00:00\n');
    expect(script).toContain('#SBATCH --mem=4G\n');
    // The task runs this very CLI by absolute paths, from the directory submit ran in.
    expect(script).toContain(`cd ${process.cwd()} || exit 1\n`);
    expect(script).toContain(`${process.execPath} ${path.join(ROOT, 'packages', 'cli', 'bin', 'bayes-peft.js')} experiment ${specFile} --index "$index" --wait --no-progress\n`);
    expect(script).toContain(`#   bayes-peft submit slurm ${specFile} --max-parallel 2 --time 1:00:00 --sbatch-arg=--mem=4G --max-array-size 1001 --only-pending\n`);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o755);
  });

  it("splits past MaxArraySize into parts, each after the one before when --max-parallel bounds them", async () => {
    await stubSbatch();
    const res = await runCli('submit', 'slurm', specFile, '--max-parallel', '1', '--max-array-size', '2');
    expect({ code: res.code, stdout: res.stdout }).toEqual({ code: 0, stdout: '101\n102\n103\n' });
    const part = (k: number) => path.join(slurmDir(), `grid.part${k}.sbatch`);
    expect(await calls()).toEqual([`--parsable ${part(1)}`, `--parsable --dependency=afterany:101 ${part(2)}`, `--parsable --dependency=afterany:102 ${part(3)}`]);
    expect(await fs.readFile(part(3), 'utf8')).toContain('#SBATCH --array=0%1\n');
    expect(await fs.readFile(part(3), 'utf8')).toContain('index=$((SLURM_ARRAY_TASK_ID + 4))\n');
  });

  it('--index and --only-pending submit a sparse array of the runs asked for, less the done ones', async () => {
    await stubSbatch();
    // Run 1 done, run 3 failed, the others never started.
    await fs.mkdir(runDir(1), { recursive: true });
    await fs.writeFile(path.join(runDir(1), 'results.json'), '{"metrics":{}}');
    await fs.writeFile(path.join(runDir(1), 'status.json'), '{"state":"complete"}');
    await fs.mkdir(runDir(3), { recursive: true });
    await fs.writeFile(path.join(runDir(3), 'status.json'), '{"state":"failed","error":"non-finite loss"}');
    const pending = await runCli('submit', 'slurm', specFile, '--only-pending', '--max-array-size', '1001');
    expect(pending.code).toBe(0);
    const script = await fs.readFile(path.join(slurmDir(), 'grid.sbatch'), 'utf8');
    expect(script).toContain('#SBATCH --array=0,2-4\n');
    expect(script).toContain('# grid: 4 of the 5 runs of');
    const index = await runCli('submit', 'slurm', specFile, '--index', '1-3', '--only-pending', '--max-array-size', '1001');
    expect(index.code).toBe(0);
    expect(await fs.readFile(path.join(slurmDir(), 'grid.sbatch'), 'utf8')).toContain('#SBATCH --array=2-3\n');
  });

  it('submits nothing when every run is done', async () => {
    await stubSbatch();
    for (const i of [0, 1, 2, 3, 4]) {
      await fs.mkdir(runDir(i), { recursive: true });
      await fs.writeFile(path.join(runDir(i), 'results.json'), '{"metrics":{}}');
      await fs.writeFile(path.join(runDir(i), 'status.json'), '{"state":"complete"}');
    }
    const res = await runCli('submit', 'slurm', specFile, '--only-pending', '--max-array-size', '1001');
    expect({ code: res.code, stdout: res.stdout }).toEqual({ code: 0, stdout: '' });
    expect(res.stderr).toMatch(/^nothing to submit: every run of .* is done or running/);
    expect(existsSync(path.join(dir, 'sbatch.calls'))).toBe(false);
  });

  it("says when sbatch is missing or refuses, with sbatch's own message", async () => {
    process.env.PATH = bin;
    const missing = await runCli('submit', 'slurm', specFile, '--max-array-size', '1001');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: sbatch is not on PATH: submit from a Slurm login node \(where sbatch runs\), or print the script with --dry-run/);
    await stubSbatch(`echo 'sbatch: error: invalid partition specified: gpu' >&2\nexit 1`);
    const refused = await runCli('submit', 'slurm', specFile, '--partition', 'gpu', '--max-array-size', '1001');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`error: sbatch refused ${path.join(slurmDir(), 'grid.sbatch')} (exit 1):\nsbatch: error: invalid partition specified: gpu\n`);
  });

  it('refuses bad options before writing anything', async () => {
    const time = await runCli('submit', 'slurm', specFile, '--time', '24h', '--max-array-size', '1001');
    expect(time.stderr).toMatch(/^error: --time '24h' is not a Slurm time limit/);
    const array = await runCli('submit', 'slurm', specFile, '--sbatch-arg=--array=0-3', '--max-array-size', '1001');
    expect(array.stderr).toMatch(/^error: --sbatch-arg '--array=0-3': the array is set from the runs/);
    const index = await runCli('submit', 'slurm', specFile, '--index', '5');
    expect(index.stderr).toBe('error: run index 5 is out of range: this spec has 5 runs (indexes 0 to 4)\n');
    const gpus = await runCli('submit', 'slurm', specFile, '--gpus-per-run', 'one');
    expect(gpus.stderr).toMatch(/option '--gpus-per-run <G>' argument 'one' is invalid/);
    expect(existsSync(path.join(dir, 'runs'))).toBe(false);
  });

  it('--dry-run prints the paper protocol as one script a cluster user can submit as is, and writes nothing', async () => {
    const cwd = process.cwd();
    process.chdir(ROOT);
    try {
      const res = await runCli('submit', 'slurm', 'examples/paper-llama2.yaml', '--dry-run', '--partition', 'gpu', '--gpus-per-run', '1', '--max-parallel', '8', '--time', '24:00:00', '--max-array-size', '1001');
      expect(res.code).toBe(0);
      expect(res.stderr).toBe('dry run: 90 runs in 1 script; nothing written or submitted\n');
      const script = res.stdout;
      expect(script.split('\n')[0]).toBe('#!/bin/bash');
      expect(script).toContain(`# paper-llama2: the 90 runs of ${path.join(ROOT, 'examples', 'paper-llama2.yaml')}`);
      expect(script).toContain('at most 8 at a time, each on 1 GPU for at most 24:00:00.');
      for (const line of ['--job-name=paper-llama2', '--array=0-89%8', '--partition=gpu', '--gres=gpu:1', '--time=24:00:00']) expect(script).toContain(`#SBATCH ${line}\n`);
      expect(script).toContain(`#   bayes-peft status ${path.join(ROOT, 'examples', 'paper-llama2.yaml')}\n`);
      expect(script).toContain('--only-pending\n');
      expect(script).toContain('  [0]=mle-winogrande-s-seed1\n');
      expect(script).toContain('  [89]=blob-boolq-seed3\n)');
      expect(existsSync(path.join(ROOT, 'runs', 'paper-llama2', 'slurm', 'paper-llama2.sbatch'))).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });
});
