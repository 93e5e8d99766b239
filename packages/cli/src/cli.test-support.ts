import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeTinyLlama } from '@bayes-peft/fixtures';
import { findRunDirs } from '@bayes-peft/report';
import { main } from './main';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process, capturing what it prints. */
export async function runCli(...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  try {
    const code = await main(['node', 'bayes-peft', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `bayes-peft-${prefix}-`));
}

/** The tiny random Llama the quickstart uses, made once per test file. */
export async function tinyModel(dir: string): Promise<string> {
  const target = path.join(dir, 'tiny-llama');
  await makeTinyLlama(target, 'tiny');
  return target;
}

export async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

/** Every folder under `root` that holds a results.json (i.e. looks like a finished run): the report's walk. */
export const completeRunFolders = findRunDirs;
