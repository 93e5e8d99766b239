import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { planSubmission, type SubmissionInput } from './plan';
import type { RunRef } from './script';

// The script text, and the script run by bash as Slurm would run one array task (the task's
// variables set, the CLI replaced by --command with a stub that records what it was given).

const ROOT = '/cluster/home/ada/sweep';
const runsOf = (n: number, root = `${ROOT}/runs/demo`): RunRef[] =>
  Array.from({ length: n }, (_, index) => ({ index, id: `run${index}-seed1`, dir: `${root}/run${index}-seed1` }));

function input(over: Partial<SubmissionInput> = {}): SubmissionInput {
  const allRuns = over.allRuns ?? runsOf(7);
  return {
    specFile: `${ROOT}/demo.yaml`,
    workingDir: ROOT,
    cli: '/opt/node/bin/node /opt/bayes-peft/bin/bayes-peft.js',
    allRuns,
    indexes: allRuns.map((r) => r.index),
    slurmDir: `${ROOT}/runs/demo/slurm`,
    maxArraySize: 1001,
    resources: { jobName: 'demo', partition: 'gpu', gpusPerRun: 1, maxParallel: 2, time: '24:00:00', cpusPerTask: 4, sbatchArgs: ['--mem=32G', '--requeue'] },
    resubmit: `bayes-peft submit slurm ${ROOT}/demo.yaml --partition gpu --only-pending`,
    ...over,
  };
}

const lines = (script: string) => script.split('\n');

describe('the sbatch script', () => {
  const [{ script, file }] = planSubmission(input());

  it('asks for every resource with one #SBATCH line each, the user options last', () => {
    expect(lines(script).filter((l) => l.startsWith('#SBATCH'))).toEqual([
      '#SBATCH --job-name=demo',
      '#SBATCH --array=0-6%2',
      '#SBATCH --partition=gpu',
      '#SBATCH --gres=gpu:1',
      '#SBATCH --time=24:00:00',
      '#SBATCH --cpus-per-task=4',
      `#SBATCH --output=${ROOT}/runs/demo/slurm/logs/%A_%a.out`,
      `#SBATCH --error=${ROOT}/runs/demo/slurm/logs/%A_%a.err`,
      '#SBATCH --open-mode=append',
      '#SBATCH --mem=32G',
      '#SBATCH --requeue',
    ]);
    expect(file).toBe(`${ROOT}/runs/demo/slurm/demo.sbatch`);
  });

  it('has no command before its last #SBATCH line (sbatch stops reading options at the first one)', () => {
    const all = lines(script);
    const last = all.map((l) => l.startsWith('#SBATCH')).lastIndexOf(true);
    expect(all[0]).toBe('#!/bin/bash');
    expect(all.slice(0, last).filter((l) => l.trim() !== '' && !l.startsWith('#'))).toEqual([]);
  });

  it('says in comments what it runs and how to submit, watch, resume and cancel it', () => {
    expect(script).toContain(`# demo: the 7 runs of ${ROOT}/demo.yaml`);
    expect(script).toContain('at most 2 at a time, each on 1 GPU for at most 24:00:00');
    expect(script).toContain(`#   mkdir -p ${ROOT}/runs/demo/slurm/logs && sbatch ${ROOT}/runs/demo/slurm/demo.sbatch`);
    expect(script).toContain(`#   bayes-peft status ${ROOT}/demo.yaml`);
    expect(script).toContain(`#   bayes-peft submit slurm ${ROOT}/demo.yaml --partition gpu --only-pending`);
    expect(script).toContain('scancel <job id>_<task id> (one run)');
    expect(script).toContain('# bayes-peft above is: /opt/node/bin/node /opt/bayes-peft/bin/bayes-peft.js');
  });

  it('runs the task id as the run index, by absolute paths', () => {
    expect(script).toContain('index=$SLURM_ARRAY_TASK_ID\n');
    expect(script).toContain(`cd ${ROOT} || exit 1\n`);
    expect(script).toContain(`/opt/node/bin/node /opt/bayes-peft/bin/bayes-peft.js experiment ${ROOT}/demo.yaml --index "$index" --wait --no-progress\n`);
    expect(script).toContain(`runs=(\n  [0]=run0-seed1\n  [1]=run1-seed1\n`);
  });

  it('is valid bash', () => {
    const r = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('leaves out what was not asked for', () => {
    const [{ script: bare }] = planSubmission(input({ resources: { jobName: 'demo' } }));
    expect(lines(bare).filter((l) => l.startsWith('#SBATCH')).map((l) => l.split('=')[0])).toEqual([
      '#SBATCH --job-name',
      '#SBATCH --array',
      '#SBATCH --output',
      '#SBATCH --error',
      '#SBATCH --open-mode',
    ]);
    expect(bare).toContain('#SBATCH --array=0-6\n');
  });

  it('quotes paths with spaces', () => {
    const [{ script: spaced }] = planSubmission(input({ specFile: '/home/a b/demo.yaml', workingDir: '/home/a b', allRuns: runsOf(2, '/home/a b/runs/demo'), indexes: [0, 1] }));
    expect(spaced).toContain(`cd '/home/a b' || exit 1`);
    expect(spaced).toContain(`experiment '/home/a b/demo.yaml' --index "$index"`);
    expect(spaced).toContain(`run_dir='/home/a b/runs/demo'/\${runs[$index]}`);
    expect(spawnSync('bash', ['-n'], { input: spaced }).status).toBe(0);
  });
});

describe('the task, run by bash as Slurm runs it', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bayes-peft-slurm-script-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** A CLI stub: records its working directory and arguments, makes the run folder, exits with `code`. */
  async function stub(code: number): Promise<string> {
    const file = path.join(dir, 'cli-stub.sh');
    await fs.writeFile(file, `#!/bin/bash\necho "$PWD" > "${dir}/called"\nprintf '%s\\n' "$@" >> "${dir}/called"\nmkdir -p "${dir}/runs/demo/run$4-seed1"\nexit ${code}\n`, { mode: 0o755 });
    return file;
  }

  async function runTask(taskId: number, code: number, over: Partial<SubmissionInput> = {}) {
    const slurmDir = path.join(dir, 'runs', 'demo', 'slurm');
    const allRuns = runsOf(7, path.join(dir, 'runs', 'demo'));
    const work = path.join(dir, 'work');
    await fs.mkdir(work, { recursive: true });
    const scripts = planSubmission(input({ allRuns, indexes: allRuns.map((r) => r.index), slurmDir, workingDir: work, specFile: path.join(work, 'demo.yaml'), cli: await stub(code), ...over }));
    // Slurm would have opened these: the task copies them into the run folder when it ends.
    await fs.mkdir(path.join(slurmDir, 'logs'), { recursive: true });
    await fs.writeFile(path.join(slurmDir, 'logs', `77_${taskId}.out`), 'the log\n');
    await fs.writeFile(path.join(slurmDir, 'logs', `77_${taskId}.err`), 'the errors\n');
    const script = scripts[scripts.length - 1].script;
    const r = spawnSync('bash', ['-c', script], { cwd: os.tmpdir(), encoding: 'utf8', env: { ...process.env, SLURM_ARRAY_TASK_ID: String(taskId), SLURM_ARRAY_JOB_ID: '77' }, timeout: 10_000 });
    return { r, work, called: (await fs.readFile(path.join(dir, 'called'), 'utf8')).trim().split('\n') };
  }

  it('runs `experiment <spec> --index <task id> --wait --no-progress` in the working directory, copies the logs into the run folder and exits with the run', async () => {
    const { r, work, called } = await runTask(4, 3);
    expect(called).toEqual([work, 'experiment', path.join(work, 'demo.yaml'), '--index', '4', '--wait', '--no-progress']);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/^bayes-peft: run 4 of 7 \(run4-seed1\), job 77_4 on /);
    const runDir = path.join(dir, 'runs', 'demo', 'run4-seed1');
    expect(await fs.readFile(path.join(runDir, 'slurm-77_4.out'), 'utf8')).toBe('the log\n');
    expect(await fs.readFile(path.join(runDir, 'slurm-77_4.err'), 'utf8')).toBe('the errors\n');
  });

  it('adds the offset of a later part of a split array', async () => {
    const { r, called } = await runTask(2, 0, { maxArraySize: 4 });
    expect(called.slice(3, 5)).toEqual(['--index', '6']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('run 6 of 7 (run6-seed1), job 77_2');
  });

  it('refuses to run outside a job array', () => {
    const [{ script }] = planSubmission(input());
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 10_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('submit this script with sbatch: it is a job array');
  });
});

describe('planSubmission: more runs than MaxArraySize', () => {
  it('splits into parts, each with its own runs and offset, chained when --max-parallel bounds them', () => {
    const scripts = planSubmission(input({ maxArraySize: 4 }));
    expect(scripts.map((s) => [path.basename(s.file), s.chunk.offset, s.runs.map((r) => r.index), s.afterPrevious])).toEqual([
      ['demo.part1.sbatch', 0, [0, 1, 2, 3], false],
      ['demo.part2.sbatch', 4, [4, 5, 6], true],
    ]);
    const [first, second] = scripts.map((s) => s.script);
    expect(first).toContain('#SBATCH --array=0-3%2\n');
    expect(second).toContain('#SBATCH --array=0-2%2\n');
    expect(second).toContain('index=$((SLURM_ARRAY_TASK_ID + 4))\n');
    expect(second).toContain('# Part 2 of 2: this cluster\'s MaxArraySize (4) caps array task ids');
    expect(second).toContain(`sbatch --dependency=afterany:<job id of part 1> ${ROOT}/runs/demo/slurm/demo.part2.sbatch`);
    expect(second).toContain('runs=(\n  [4]=run4-seed1\n  [5]=run5-seed1\n  [6]=run6-seed1\n)');
  });

  it('submits the parts side by side when nothing bounds the runs at once', () => {
    const scripts = planSubmission(input({ maxArraySize: 4, resources: { jobName: 'demo' } }));
    expect(scripts.map((s) => s.afterPrevious)).toEqual([false, false]);
  });

  it('a sparse selection (--only-pending) becomes a sparse array', () => {
    const [{ script }] = planSubmission(input({ indexes: [1, 4, 5] }));
    expect(script).toContain('#SBATCH --array=1,4-5%2\n');
    expect(script).toContain('# demo: 3 of the 7 runs of');
    expect(script).toContain('runs=(\n  [1]=run1-seed1\n  [4]=run4-seed1\n  [5]=run5-seed1\n)');
  });

  it('refuses an empty selection and indexes past the plan', () => {
    expect(() => planSubmission(input({ indexes: [] }))).toThrow('no runs to submit');
    expect(() => planSubmission(input({ indexes: [9] }))).toThrow('run index 9 is out of range');
  });
});
