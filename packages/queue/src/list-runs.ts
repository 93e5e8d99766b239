import { execFile } from 'node:child_process';
import { UserError } from '@bayes-peft/core';

/** One run of a spec's plan, as `bayes-peft experiment spec --list --json` prints it. */
export interface ListedRun {
  readonly index: number;
  readonly id: string;
  /** The run's folder (absolute). */
  readonly dir: string;
}

/**
 * A spec's runs in plan order, from the CLI's own `--list --json`: the same code that runs a run
 * names it, so a job's run id is always one `--run` accepts (and the spec is validated, every
 * plugin resolved, before any job is added).
 */
export async function listRuns(bin: string, specFile: string, cwd: string): Promise<ListedRun[]> {
  const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
    execFile(process.execPath, [bin, 'experiment', specFile, '--list', '--json'], { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const why = stderr.trim() || error.message;
        reject(new UserError(`listing the runs of ${specFile} failed:\n${why.replace(/^error: /, '')}`));
      } else resolve({ stdout });
    });
  });
  return stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((line) => {
      const row = JSON.parse(line) as Partial<ListedRun>;
      if (typeof row.id !== 'string' || typeof row.dir !== 'string' || typeof row.index !== 'number') throw new Error(`unexpected line from --list --json: ${line}`);
      return { index: row.index, id: row.id, dir: row.dir };
    });
}
