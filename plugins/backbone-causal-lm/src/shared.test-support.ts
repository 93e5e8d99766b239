import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '@bayes-peft/tensor';

/** The monorepo root: the nearest folder above this file with pnpm-workspace.yaml. */
function findRepoRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'pnpm-workspace.yaml'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`);
    dir = up;
  }
  return dir;
}

export const repoRoot = findRepoRoot(__dirname);
/** Read-only models and golden outputs every developer and CI has beside the project. */
export const SHARED = path.resolve(repoRoot, '../shared');
export const hasShared = fs.existsSync(SHARED);

export const MODELS = ['stories260K', 'tiny-qwen2', 'tiny-llama3'] as const;
export type ModelName = (typeof MODELS)[number];

export function modelDir(name: ModelName): string {
  return path.join(SHARED, 'models', name);
}

export interface GoldenRow {
  text: string | null;
  ids: number[];
  base_last_logits: number[];
  lora_last_logits: number[];
  base_greedy_ids: number[];
}

export interface Golden {
  model: string;
  adapter: { targets: string[]; r: number; alpha: number; scaling: number };
  rows: GoldenRow[];
  dir: string;
}

export function readGolden(name: ModelName): Golden {
  const dir = path.join(SHARED, 'fixtures', `${name}-golden`);
  return { ...JSON.parse(fs.readFileSync(path.join(dir, 'logits.json'), 'utf8')), dir };
}

/**
 * `describe` for suites that need ../shared: skipped with one line when it is absent (a fresh
 * clone elsewhere), but failing under CI, which always provides it.
 */
export function describeShared(name: string, fn: () => void): void {
  if (hasShared) {
    describe(name, fn);
  } else if (process.env.CI) {
    describe(name, () => {
      it('has the shared fixtures', () => {
        throw new Error(`${SHARED} is missing, and CI must provide it (models and golden outputs for '${name}')`);
      });
    });
  } else {
    if (!announced) {
      announced = true;
      console.log(`skipping the tests that need ${SHARED}: not found (models and golden fixtures live beside the repo; CI always has them)`);
    }
    // Skipped only off CI when ../shared is absent (announced once above); CI fails instead.
    describe.skip(name, fn);
  }
}

/** One skip line per test file (each file has its own copy of this module). */
let announced = false;

/** The tests run on wasm: the cpu backend is ~40x slower. */
export async function useWasm(): Promise<void> {
  await initBackend('wasm', () => {});
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
