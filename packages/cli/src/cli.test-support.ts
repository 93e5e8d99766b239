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

/**
 * A small open-ended run spec on ../shared's stories260K and TriviaQA rows (the open-ended,
 * LLM-judge and kill tests): trains on the first `trainExamples` validation_subset rows and
 * tests on `testQuestions` rows from row 16 on, never trained on. `rest` (train, generation,
 * scorer, ...) completes or overrides it.
 */
export function triviaqaSpec(
  shared: string,
  s: { name: string; seed: number; output: string; wrapper: unknown; trainExamples: number; testQuestions: number } & Record<string, unknown>,
): Record<string, unknown> {
  const { name, seed, output, wrapper, trainExamples, testQuestions, ...rest } = s;
  return {
    name,
    seed,
    output,
    model: { path: path.join(shared, 'models', 'stories260K') },
    dataset: {
      plugin: 'triviaqa',
      options: {
        source: path.join(shared, 'data', 'triviaqa'),
        splits: { train: 'validation_subset', test: 'validation_subset' },
        maxTrainExamples: trainExamples,
        maxTestExamples: testQuestions,
        skipTestExamples: 16,
      },
    },
    wrapper,
    lora: { r: 4, alpha: 8, targets: ['q_proj', 'v_proj'] },
    ...rest,
  };
}
