import { UserError } from '@bayes-peft/core';

/** What every array task asks Slurm for: the `#SBATCH` options of the script besides the array and the logs. */
export interface SlurmResources {
  readonly jobName: string;
  readonly partition?: string;
  /** `--gres=gpu:G` per task (one task = one run). */
  readonly gpusPerRun?: number;
  /** `%K` of the array: at most K runs at once. */
  readonly maxParallel?: number;
  /** Slurm's time formats: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`, UNLIMITED. */
  readonly time?: string;
  readonly cpusPerTask?: number;
  /** More sbatch options, one `#SBATCH` line each, after the others (e.g. `--mem=32G`, `--requeue`, `--account=lab`). */
  readonly sbatchArgs?: readonly string[];
}

const TIME = /^(?:\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d{1,2}|\d+-\d{1,2}:\d{1,2}|\d+-\d{1,2}:\d{1,2}:\d{1,2}|UNLIMITED|INFINITE)$/i;

/** A job name from any text (a spec's name): Slurm and file names both take it unquoted. */
export function jobNameFrom(text: string): string {
  return text.replace(/[^\w.+-]+/g, '_').replace(/^_+|_+$/g, '') || 'bayes-peft';
}

/** The resources checked, each bad value a UserError naming the option and what it accepts. */
export function checkResources(r: SlurmResources): SlurmResources {
  if (!/^[\w.+-]+$/.test(r.jobName)) throw new UserError(`--job-name '${r.jobName}': letters, digits and . _ + - only`);
  if (r.partition !== undefined && !/^[\w.+-]+(?:,[\w.+-]+)*$/.test(r.partition)) {
    throw new UserError(`--partition '${r.partition}' is not a partition name (or a comma-separated list of them)`);
  }
  wholeNumber('--gpus-per-run', r.gpusPerRun, 0);
  wholeNumber('--max-parallel', r.maxParallel, 1);
  wholeNumber('--cpus-per-task', r.cpusPerTask, 1);
  if (r.time !== undefined && !TIME.test(r.time)) {
    throw new UserError(`--time '${r.time}' is not a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (e.g. 24:00:00 or 1-12:00:00)`);
  }
  for (const arg of r.sbatchArgs ?? []) {
    if (!arg.startsWith('-') || /[\r\n]/.test(arg)) throw new UserError(`--sbatch-arg '${arg}' is not one sbatch option (like --mem=32G or --requeue)`);
    // The array is what maps a task to its run; another --array would run the wrong runs.
    if (/^(?:--array(?:=|$)|-a)/.test(arg)) throw new UserError(`--sbatch-arg '${arg}': the array is set from the runs (use --index or --only-pending to choose them, --max-parallel for %K)`);
  }
  return r;
}

function wholeNumber(option: string, value: number | undefined, min: number): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= min)) throw new UserError(`${option} must be a whole number from ${min}, got ${value}`);
}
