import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { planExperiment, runDir, runStatus, type RunStatusState } from '@bayes-peft/runner';
import { jobNameFrom, logsDir, parseIndexList, planSubmission, readMaxArraySize, shellJoin, shellQuote, submitScript, type PlannedScript, type RunRef } from '@bayes-peft/slurm';
import { BUILTIN_PLUGINS } from '../builtin-plugins';
import { CLI_SEARCH_PATHS } from '../search-paths';

/** This CLI's own script, which the tasks run: two folders up from dist/commands/ and src/commands/ alike. */
const CLI_BIN = path.resolve(__dirname, '..', '..', 'bin', 'bayes-peft.js');

interface SlurmFlags {
  dryRun: boolean;
  partition?: string;
  gpusPerRun?: number;
  maxParallel?: number;
  time?: string;
  cpusPerTask?: number;
  sbatchArg: string[];
  jobName?: string;
  onlyPending: boolean;
  index?: string;
  command?: string;
  maxArraySize?: number;
}

/** States a resubmission leaves alone: finished, or being trained right now by a live task. */
const NOT_TO_SUBMIT: readonly RunStatusState[] = ['done', 'running'];

function wholeNumber(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError('a whole number');
  return Number(text);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function submitSlurmCommand(): Command {
  return new Command('slurm')
    .description(
      "submit a spec's runs as one Slurm job array (task i runs run i of `experiment --list`): the sbatch script and a logs folder go into the spec's output folder (<output>/<name>/slurm), then sbatch --parsable; prints the job id",
    )
    .argument('<spec>', 'run spec (YAML)')
    .option('--dry-run', 'print the sbatch script(s); write and submit nothing', false)
    .option('--partition <name>', 'Slurm partition (#SBATCH --partition)')
    .option('--gpus-per-run <G>', 'GPUs per run (#SBATCH --gres=gpu:G)', wholeNumber)
    .option('--max-parallel <K>', 'at most K runs at once (--array=...%K)', wholeNumber)
    .option('--time <limit>', 'time limit per run, e.g. 24:00:00 or 1-12:00:00 (#SBATCH --time)')
    .option('--cpus-per-task <C>', 'CPUs per run (#SBATCH --cpus-per-task)', wholeNumber)
    .option('--sbatch-arg <option>', 'one more sbatch option as its own #SBATCH line, e.g. --sbatch-arg=--mem=32G (repeatable)', collect, [])
    .option('--job-name <name>', "Slurm job name (default: the spec's name)")
    .option('--only-pending', 'only the runs not done and not running (pending, interrupted, failed; read from the run folders): finishing a sweep', false)
    .option('--index <list>', 'only these runs: 0-based plan indexes like 4 or 0-9,17 (as `experiment --list` counts)')
    .option('--command <shell>', 'how a compute node starts bayes-peft, as shell text (default: this node binary and this CLI, by absolute path)')
    .option('--max-array-size <n>', "the cluster's MaxArraySize (default: from scontrol show config, else 1001)", wholeNumber)
    .action(async (spec: string, opts: SlurmFlags) => {
      const specFile = path.resolve(spec);
      const { loaded, runs } = await planExperiment(specFile, { searchPaths: CLI_SEARCH_PATHS, builtinPlugins: BUILTIN_PLUGINS });
      const allRuns: RunRef[] = runs.map((run, index) => ({ index, id: run.id, dir: runDir(run) }));
      const indexes = await chooseRuns(allRuns, opts);
      if (indexes.length === 0) {
        process.stderr.write(`nothing to submit: every run of ${specFile} is done or running (bayes-peft status ${shellQuote(specFile)} shows them)\n`);
        return;
      }
      const maxArraySize = opts.maxArraySize ?? (await clusterMaxArraySize());
      const slurmDir = path.join(path.dirname(allRuns[0].dir), 'slurm');
      const scripts = planSubmission({
        specFile,
        workingDir: process.cwd(),
        cli: opts.command ?? shellJoin([process.execPath, CLI_BIN]),
        allRuns,
        indexes,
        slurmDir,
        maxArraySize,
        resources: {
          jobName: opts.jobName ?? jobNameFrom(loaded.runs[0]?.spec.name ?? path.basename(specFile, path.extname(specFile))),
          partition: opts.partition,
          gpusPerRun: opts.gpusPerRun,
          maxParallel: opts.maxParallel,
          time: opts.time,
          cpusPerTask: opts.cpusPerTask,
          sbatchArgs: opts.sbatchArg,
        },
        resubmit: resubmitCommand(specFile, opts),
      });
      if (opts.dryRun) return printScripts(scripts, indexes.length);
      await submitScripts(scripts, slurmDir, specFile);
    });
}

/** The run indexes to submit: --index's or every run, less the done and running ones with --only-pending. */
async function chooseRuns(allRuns: readonly RunRef[], opts: SlurmFlags): Promise<number[]> {
  const chosen = opts.index === undefined ? allRuns.map((r) => r.index) : parseIndexList(opts.index, allRuns.length);
  if (!opts.onlyPending) return chosen;
  const states = await Promise.all(chosen.map(async (i) => ({ i, state: (await runStatus(allRuns[i].dir)).state })));
  return states.filter((s) => !NOT_TO_SUBMIT.includes(s.state)).map((s) => s.i);
}

async function clusterMaxArraySize(): Promise<number> {
  const { value, note } = await readMaxArraySize();
  if (note) process.stderr.write(`${note}\n`);
  return value;
}

/** The command line that submits the runs still to do with the same resources (the scripts' resume line). */
function resubmitCommand(specFile: string, opts: SlurmFlags): string {
  const words = ['bayes-peft', 'submit', 'slurm', specFile];
  const add = (flag: string, value: string | number | undefined) => value !== undefined && words.push(flag, String(value));
  add('--partition', opts.partition);
  add('--gpus-per-run', opts.gpusPerRun);
  add('--max-parallel', opts.maxParallel);
  add('--time', opts.time);
  add('--cpus-per-task', opts.cpusPerTask);
  for (const arg of opts.sbatchArg) words.push(`--sbatch-arg=${arg}`);
  add('--job-name', opts.jobName);
  add('--command', opts.command);
  add('--max-array-size', opts.maxArraySize);
  return `${shellJoin(words)} --only-pending`;
}

/** --dry-run: one script as is (redirect it to a file and sbatch it); several, each under a line naming its file. */
function printScripts(scripts: readonly PlannedScript[], runCount: number): void {
  if (scripts.length === 1) {
    process.stdout.write(scripts[0].script);
  } else {
    for (const s of scripts) process.stdout.write(`\n##### ${s.file}\n${s.script}`);
  }
  process.stderr.write(`dry run: ${runCount} run${runCount === 1 ? '' : 's'} in ${scripts.length} script${scripts.length === 1 ? '' : 's'}; nothing written or submitted\n`);
}

/**
 * Writes the scripts and the logs folder (Slurm opens the logs before a task starts: a missing
 * folder fails the task with no log at all), then submits them in order, printing each job id
 * as soon as sbatch gives it, so a part refused later leaves the earlier ids on record.
 */
async function submitScripts(scripts: readonly PlannedScript[], slurmDir: string, specFile: string): Promise<void> {
  await fs.mkdir(logsDir(slurmDir), { recursive: true });
  for (const s of scripts) await fs.writeFile(s.file, s.script, { mode: 0o755 });
  let previous: string | undefined;
  for (const s of scripts) {
    const id = await submitScript(s.file, s.afterPrevious && previous ? { dependsOn: previous } : {});
    process.stdout.write(`${id}\n`);
    process.stderr.write(`submitted ${s.runs.length} run${s.runs.length === 1 ? '' : 's'} as job ${id} (${s.file})\n`);
    previous = id;
  }
  process.stderr.write(`logs: ${logsDir(slurmDir)}/<job id>_<task id>.out and .err; watch: bayes-peft status ${shellQuote(specFile)}\n`);
}
