import * as path from 'node:path';
import { UserError } from '@bayes-peft/core';
import { splitArray, type ArrayChunk } from './array';
import { checkResources, type SlurmResources } from './resources';
import { sbatchScript, type RunRef } from './script';

export interface SubmissionInput {
  readonly specFile: string;
  readonly workingDir: string;
  readonly cli: string;
  /** Every run of the spec, in plan order (`experiment --list --json`). */
  readonly allRuns: readonly RunRef[];
  /** The indexes to submit (every run, --index's, or the runs not done and not running). */
  readonly indexes: readonly number[];
  /** Where the scripts and the logs folder go: `<output>/<name>/slurm`. */
  readonly slurmDir: string;
  readonly maxArraySize: number;
  readonly resources: SlurmResources;
  readonly resubmit: string;
}

/** One sbatch submission: its script, where it is written, and which runs it holds. */
export interface PlannedScript {
  readonly file: string;
  readonly script: string;
  readonly chunk: ArrayChunk;
  readonly runs: readonly RunRef[];
  /** Submit after the previous script's job ends (parts of a split array with --max-parallel). */
  readonly afterPrevious: boolean;
}

/** The folder Slurm writes each task's .out and .err into. */
export function logsDir(slurmDir: string): string {
  return path.join(slurmDir, 'logs');
}

/**
 * The sbatch scripts of a submission: one job array, or several when the run indexes reach past
 * the cluster's MaxArraySize. Parts are chained (each after the one before ends) when
 * --max-parallel bounds the runs at once, since %K holds per array only.
 */
export function planSubmission(input: SubmissionInput): PlannedScript[] {
  const resources = checkResources(input.resources);
  if (input.indexes.length === 0) throw new UserError('no runs to submit');
  const byIndex = new Map(input.allRuns.map((r) => [r.index, r]));
  const chunks = splitArray(input.indexes, input.maxArraySize);
  return chunks.map((chunk, k) => {
    const runs = chunk.taskIds.map((t) => {
      const run = byIndex.get(t + chunk.offset);
      if (!run) throw new UserError(`run index ${t + chunk.offset} is out of range: this spec has ${input.allRuns.length} runs`);
      return run;
    });
    const file = path.join(input.slurmDir, chunks.length === 1 ? `${resources.jobName}.sbatch` : `${resources.jobName}.part${k + 1}.sbatch`);
    const script = sbatchScript({
      specFile: input.specFile,
      workingDir: input.workingDir,
      cli: input.cli,
      runCount: input.allRuns.length,
      chunk,
      runs,
      logsDir: logsDir(input.slurmDir),
      scriptFile: file,
      resources,
      resubmit: input.resubmit,
      ...(chunks.length > 1 ? { part: { number: k + 1, of: chunks.length, maxArraySize: input.maxArraySize } } : {}),
    });
    return { file, script, chunk, runs, afterPrevious: k > 0 && resources.maxParallel !== undefined };
  });
}
