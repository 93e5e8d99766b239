import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import type { RunJobData } from './job-data';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One `bayes-peft experiment <spec> --run <id>` started by a worker. */
export interface RunChild {
  readonly pid: number;
  /** Where this attempt's output starts in the log file. */
  readonly logOffset: number;
  readonly exited: Promise<ChildExit>;
  /** SIGTERM: the run finishes its current step, writes a checkpoint and exits (the experiment command's handling). */
  interrupt(): void;
  /** SIGKILL to the run and anything it started: no checkpoint beyond the last one. */
  kill(): void;
}

/**
 * Starts one run in a child process with its output appended to `logFile` (the run folder's
 * worker.log): the child writes to the file itself, so its log survives the worker.
 *
 * The child gets a process group of its own (detached): a Ctrl-C in the worker's terminal
 * reaches the worker alone, which decides what the runs get (one SIGTERM, then SIGKILL), instead
 * of every run receiving the terminal's signals directly. A worker killed with SIGKILL leaves its
 * runs going; each still holds its run.lock, finishes, and its job is closed by whichever worker
 * meets it next (see worker.ts, "running elsewhere").
 */
export async function startRunChild(bin: string, data: RunJobData, logFile: string, header: string): Promise<RunChild> {
  const log = await fs.open(logFile, 'a');
  let logOffset: number;
  try {
    await log.write(`${header}\n`);
    logOffset = (await log.stat()).size;
  } catch (e) {
    await log.close();
    throw e;
  }
  const args = [bin, 'experiment', data.spec, '--run', data.run, '--no-progress'];
  const child = spawn(process.execPath, args, { cwd: data.cwd, stdio: ['ignore', log.fd, log.fd], detached: true });
  const exited = new Promise<ChildExit>((resolve) => {
    child.on('error', (e) => {
      void fs.appendFile(logFile, `worker: could not start ${process.execPath} ${args.join(' ')}: ${e.message}\n`).finally(() => resolve({ code: 127, signal: null }));
    });
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  // The child holds its own copy of the descriptor.
  await log.close();
  const pid = child.pid ?? -1;
  const signalGroup = (signal: NodeJS.Signals) => {
    if (pid <= 0) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  return { pid, logOffset, exited, interrupt: () => signalGroup('SIGTERM'), kill: () => signalGroup('SIGKILL') };
}
