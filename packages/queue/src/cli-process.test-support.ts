import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

/** The CLI as users run it, from dist/ (pnpm build, which jest's turbo task runs first). */
export const BIN = path.resolve(__dirname, '..', '..', 'cli', 'bin', 'bayes-peft.js');

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A bayes-peft command in a child process, its stdout and stderr gathered into one text. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  private text = '';
  private listeners: (() => void)[] = [];

  constructor(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d: Buffer) => {
      this.text += d.toString();
      for (const l of this.listeners) l();
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get output(): string {
    return this.text;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first match of `pattern` in the output; rejects after `timeoutMs` or when the process ends first. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.text.match(pattern);
        if (m) {
          done();
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${pattern} in ${timeoutMs} ms; output so far:\n${this.text}`));
      }, timeoutMs);
      const onExit = () => {
        check();
        done();
        reject(new Error(`the process ended without ${pattern}; output:\n${this.text}`));
      };
      const done = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        this.child.off('exit', onExit);
      };
      this.listeners.push(check);
      this.child.on('exit', onExit);
      check();
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }
}

/** Runs a command to its end (at most `timeoutMs`, then SIGKILL) and returns its exit and output. */
export async function runToEnd(args: readonly string[], timeoutMs: number, options: { cwd?: string } = {}): Promise<Exit & { output: string }> {
  const p = new CliProcess(args, options);
  const timer = setTimeout(() => p.signal('SIGKILL'), timeoutMs);
  const exit = await p.exited;
  clearTimeout(timer);
  return { ...exit, output: p.output };
}

/** SIGKILL to a pid that may be gone already. */
export function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}
