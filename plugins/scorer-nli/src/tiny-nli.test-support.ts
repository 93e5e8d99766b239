import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { silentLogger, type RunContext } from '@bayes-peft/core';
import { findShared } from '@bayes-peft/fixtures';
import { onnxRuntimeUnavailable } from '@bayes-peft/onnx';

/** One pair of golden.json: the SentencePiece ids and PyTorch's logits, alone and in one batch of all pairs. */
export interface GoldenPair {
  premise: string;
  hypothesis: string;
  input_ids: number[];
  logits: number[];
  batched_logits: number[];
  probs: number[];
}

/**
 * ../shared/models/tiny-nli when present and onnxruntime-node loads, else null after one line
 * saying why (the suites then skip).
 */
export function tinyNliDir(what: string): string | null {
  const dir = findShared('models/tiny-nli', what);
  if (!dir) return null;
  const ort = onnxRuntimeUnavailable();
  if (ort) {
    // eslint-disable-next-line no-console
    console.log(`skipping ${what}: ${ort}`);
    return null;
  }
  return dir;
}

export function readGolden(dir: string): { labels: string[]; pairs: GoldenPair[] } {
  return JSON.parse(readFileSync(path.join(dir, 'golden.json'), 'utf8'));
}

export function runContext(specDir = process.cwd()): Pick<RunContext, 'specDir' | 'hub' | 'log'> {
  return { specDir, hub: { offline: true }, log: silentLogger };
}

/**
 * A temporary model folder with the fixture's files linked in and config.json rewritten by `edit`
 * (the shared folder is read-only and stays out of the repo). Returns the folder.
 */
export async function editedCopy(dir: string, edit: (config: Record<string, unknown>) => Record<string, unknown>, drop: readonly string[] = []): Promise<string> {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-nli-'));
  for (const name of await fs.readdir(dir)) {
    if (name === 'config.json' || drop.includes(name)) continue;
    await fs.symlink(path.join(dir, name), path.join(out, name));
  }
  const config = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
  await fs.writeFile(path.join(out, 'config.json'), JSON.stringify(edit(config), null, 2));
  return out;
}
