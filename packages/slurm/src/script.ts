import * as path from 'node:path';
import { arraySpec, type ArrayChunk } from './array';
import type { SlurmResources } from './resources';
import { shellQuote } from './shell';

/** One run of a spec as `bayes-peft experiment <spec> --list --json` prints it. */
export interface RunRef {
  /** 0-based position in the plan: what `--index` takes. */
  readonly index: number;
  readonly id: string;
  /** The run's folder (absolute). */
  readonly dir: string;
}

/** Everything one sbatch script is made from. Paths absolute, so the script runs the same from any directory. */
export interface ScriptInput {
  readonly specFile: string;
  /** Where the CLI ran: the spec's relative `output:` and plugin paths resolve from here. */
  readonly workingDir: string;
  /** The CLI as shell text (`<node> <bin>` quoted, or the user's --command). */
  readonly cli: string;
  /** Runs in the whole spec (the header says how many this script runs of them). */
  readonly runCount: number;
  readonly chunk: ArrayChunk;
  /** This chunk's runs: run index = task id + chunk.offset. */
  readonly runs: readonly RunRef[];
  readonly logsDir: string;
  /** Where the script is written (the header's submit line). */
  readonly scriptFile: string;
  readonly resources: SlurmResources;
  /** Set when the runs are split over several submissions (MaxArraySize). */
  readonly part?: { readonly number: number; readonly of: number; readonly maxArraySize: number };
  /** The command that submits every run not done and not running again (the header's resume line). */
  readonly resubmit: string;
}

const LOG = '${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}';

/** The sbatch script: a header a cluster user can read, the #SBATCH options, then the task body. */
export function sbatchScript(input: ScriptInput): string {
  return [...header(input), ...directives(input), '', ...body(input)].join('\n') + '\n';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** What the script runs and how to submit, watch, resume and cancel it, as comments. */
function header(input: ScriptInput): string[] {
  const { resources: r, runs, runCount, part, chunk } = input;
  const q = shellQuote;
  const spec = q(input.specFile);
  const all = runs.length === runCount;
  const each = [r.gpusPerRun ? `on ${plural(r.gpusPerRun, 'GPU')}` : '', r.time ? `for at most ${r.time}` : ''].filter(Boolean).join(' ');
  const lines = [
    '#!/bin/bash',
    `# ${r.jobName}: ${all ? `the ${plural(runCount, 'run')}` : `${runs.length} of the ${plural(runCount, 'run')}`} of ${input.specFile}`,
    `# as one Slurm job array, written by \`bayes-peft submit slurm\`. Array task i runs the run at`,
    chunk.offset === 0
      ? `# index i of \`bayes-peft experiment <spec> --list\`${r.maxParallel ? `, at most ${r.maxParallel} at a time` : ''}${each ? `, each ${each}` : ''}.`
      : `# index i + ${chunk.offset} of \`bayes-peft experiment <spec> --list\`${r.maxParallel ? `, at most ${r.maxParallel} at a time` : ''}${each ? `, each ${each}` : ''}.`,
  ];
  if (part) {
    lines.push(
      `# Part ${part.number} of ${part.of}: this cluster's MaxArraySize (${part.maxArraySize}) caps array task ids, so the runs`,
      `# are split into ${part.of} arrays; ${part.number === 1 ? 'the next parts start' : 'this part starts'} after the one before ends (--dependency=afterany)${r.maxParallel ? ` so that at most ${r.maxParallel} run at once` : ''}.`,
    );
  }
  const dependency = part && part.number > 1 && r.maxParallel ? ` --dependency=afterany:<job id of part ${part.number - 1}>` : '';
  lines.push(
    '#',
    '# Submit (Slurm opens the logs before the script starts, so their folder must exist):',
    `#   mkdir -p ${q(input.logsDir)} && sbatch${dependency} ${q(input.scriptFile)}`,
    '# Watch (per run: done, running, failed, interrupted or pending, read from the run folders):',
    `#   bayes-peft status ${spec}`,
    `#   squeue --me --name=${r.jobName}`,
    `# Logs: ${path.join(input.logsDir, '<job id>_<task id>.out')} and .err; when a task ends they are`,
    '#   copied into its run folder as slurm-<job id>_<task id>.out and .err.',
    '# Resume: a complete run is skipped and an interrupted one (cancelled, preempted, out of time: it',
    '#   checkpoints on Slurm\'s SIGTERM) resumes from its last checkpoint, so submitting again finishes',
    '#   the sweep. The runs not done and not running:',
    `#   ${input.resubmit}`,
    `#   One run again: sbatch --array=<task id> ${q(input.scriptFile)}`,
    '# Cancel: scancel <job id> (every run), scancel <job id>_<task id> (one run).',
    "# Each task starts in the environment sbatch was run in (sbatch's default --export=ALL): HF_TOKEN,",
    '#   HF_HOME, BAYES_PEFT_* and PATH as the submitting shell had them.',
    `# bayes-peft above is: ${input.cli}`,
    '#',
  );
  return lines;
}

function directives(input: ScriptInput): string[] {
  const { resources: r } = input;
  const lines = [`--job-name=${r.jobName}`, `--array=${arraySpec(input.chunk.taskIds, r.maxParallel)}`];
  if (r.partition) lines.push(`--partition=${r.partition}`);
  if (r.gpusPerRun) lines.push(`--gres=gpu:${r.gpusPerRun}`);
  if (r.time) lines.push(`--time=${r.time}`);
  if (r.cpusPerTask) lines.push(`--cpus-per-task=${r.cpusPerTask}`);
  // %A: the array's job id, %a: the task id. Append: a requeued task keeps its earlier attempts' lines.
  lines.push(`--output=${path.join(input.logsDir, '%A_%a.out')}`, `--error=${path.join(input.logsDir, '%A_%a.err')}`, '--open-mode=append');
  // The user's own options last: sbatch takes the last value of an option given twice.
  lines.push(...(r.sbatchArgs ?? []));
  return lines.map((l) => `#SBATCH ${l}`);
}

/** The folder all of these runs' folders are in, if they share one (they do: <output>/<name>/<run id>). */
function commonParent(runs: readonly RunRef[]): string | undefined {
  const parents = new Set(runs.map((r) => path.dirname(r.dir)));
  return parents.size === 1 ? [...parents][0] : undefined;
}

function body(input: ScriptInput): string[] {
  const q = shellQuote;
  const { chunk } = input;
  const root = commonParent(input.runs);
  const logs = (ext: string) => `${q(input.logsDir)}/${LOG}.${ext}`;
  return [
    ': "${SLURM_ARRAY_TASK_ID:?submit this script with sbatch: it is a job array}"',
    chunk.offset === 0 ? 'index=$SLURM_ARRAY_TASK_ID' : `index=$((SLURM_ARRAY_TASK_ID + ${chunk.offset}))`,
    `# Run index -> run folder${root ? ` in ${root}` : ''}, as \`bayes-peft experiment <spec> --list\` orders them.`,
    'runs=(',
    ...input.runs.map((run) => `  [${run.index}]=${q(root ? path.basename(run.dir) : run.dir)}`),
    ')',
    `run_dir=${root ? `${q(root)}/` : ''}\${runs[$index]}`,
    `cd ${q(input.workingDir)} || exit 1`,
    `echo "bayes-peft: run $index of ${input.runCount} (\${runs[$index]}), job ${LOG} on $(hostname), $(date -Is)"`,
    '# On scancel, preemption or the time limit Slurm sends SIGTERM to every process of the task: the',
    '# run checkpoints after its current step and exits. The run is not exec\'d so that this shell can',
    '# copy the logs afterwards; a trapped signal waits for the command in progress, so it does.',
    "trap ':' TERM",
    '# --wait: a task requeued after its node died waits for the dead task\'s run.lock to go stale,',
    '# then resumes the run (without it, it would skip the run as running elsewhere and succeed).',
    `${input.cli} experiment ${q(input.specFile)} --index "$index" --wait --no-progress`,
    'status=$?',
    'if [ -d "$run_dir" ]; then',
    `  for ext in out err; do cp -f ${logs('$ext')} "$run_dir/slurm-${LOG}.$ext" 2>/dev/null; done`,
    'fi',
    'exit $status',
  ];
}
