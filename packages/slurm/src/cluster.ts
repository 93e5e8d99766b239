import { execFile } from 'node:child_process';
import { UserError } from '@bayes-peft/core';
import { DEFAULT_MAX_ARRAY_SIZE } from './array';

/** What the Slurm commands print, or why they could not run. */
interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly missing: boolean;
}

/** sbatch and scontrol talk to slurmctld, which may not answer: bounded, never a hang. */
const TIMEOUT_MS = 120_000;

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: TIMEOUT_MS, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const err = error as (NodeJS.ErrnoException & { code?: string | number; killed?: boolean }) | null;
      const missing = err?.code === 'ENOENT';
      const code = err ? (typeof err.code === 'number' ? err.code : err.killed ? null : 1) : 0;
      resolve({ code, stdout: String(stdout ?? ''), stderr: String(stderr ?? '') || (err?.killed ? `timed out after ${TIMEOUT_MS / 1000} s` : ''), missing });
    });
  });
}

/** MaxArraySize from `scontrol show config` output, if it has the line. */
export function parseMaxArraySize(config: string): number | undefined {
  const m = /^\s*MaxArraySize\s*=\s*(\d+)\s*$/m.exec(config);
  return m ? Number(m[1]) : undefined;
}

/**
 * The cluster's MaxArraySize as `scontrol show config` reports it; Slurm's default (1001) where
 * scontrol is missing or fails (a laptop printing a script with --dry-run), with the reason.
 */
export async function readMaxArraySize(env: NodeJS.ProcessEnv = process.env): Promise<{ value: number; note?: string }> {
  const r = await run('scontrol', ['show', 'config'], env);
  const value = r.code === 0 ? parseMaxArraySize(r.stdout) : undefined;
  if (value !== undefined) return { value };
  const why = r.missing ? 'scontrol is not on PATH' : r.code === 0 ? 'scontrol show config has no MaxArraySize' : `scontrol show config failed: ${firstLine(r.stderr)}`;
  return { value: DEFAULT_MAX_ARRAY_SIZE, note: `${why}; assuming Slurm's default MaxArraySize ${DEFAULT_MAX_ARRAY_SIZE} (--max-array-size sets it)` };
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] || '(no message)';
}

/**
 * Submits one script with `sbatch --parsable` and returns its job id. sbatch missing or refusing
 * the script is a UserError carrying sbatch's own message.
 */
export async function submitScript(file: string, options: { dependsOn?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const args = ['--parsable', ...(options.dependsOn ? [`--dependency=afterany:${options.dependsOn}`] : []), file];
  const r = await run('sbatch', args, options.env ?? process.env);
  if (r.missing) {
    throw new UserError(`sbatch is not on PATH: submit from a Slurm login node (where sbatch runs), or print the script with --dry-run and submit it there. The script is in ${file}`);
  }
  if (r.code !== 0) throw new UserError(`sbatch refused ${file} (${r.code === null ? 'no answer' : `exit ${r.code}`}):\n${r.stderr.trim() || r.stdout.trim() || '(no message)'}`);
  // --parsable prints "<job id>" or "<job id>;<cluster>".
  const id = /^(\d+)(?:;\S+)?\s*$/.exec(r.stdout.trim())?.[1];
  if (!id) throw new UserError(`sbatch accepted ${file} but printed no job id: ${JSON.stringify(r.stdout.trim())}`);
  return id;
}
