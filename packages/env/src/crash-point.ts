import { readEnv, type EnvSource } from './index';

/**
 * The moments the kill test (packages/cli/src/kill-anywhere.e2e.test.ts) stops a run at, each
 * the name code passes to `crashPoint`. They sit where a kill leaves the most in between: work
 * done in memory and not yet on disk, or a file set half replaced.
 */
export const CRASH_POINTS = {
  'train-step': 'a training step has updated the weights in memory; nothing of it is logged or saved',
  'eval-batch': 'an evaluation batch (intermediate or final) has been predicted; its metrics are not written',
  'checkpoint:adapter': "a checkpoint's adapter is in adapter.tmp; its optimizer state and checkpoint.json are not",
  'checkpoint:state': "a checkpoint's optimizer state is in adapter.tmp; checkpoint.json is not",
  'checkpoint:written': 'adapter.tmp holds the whole checkpoint; it is not swapped in',
  'checkpoint:swap': 'between the two renames of the swap: adapter/ is adapter.old, adapter.tmp not yet adapter/',
  'write:<file name>': 'writeFileAtomic: the temporary file is written and not yet renamed over <file name>',
} as const;

let target: { point: string; hit: number } | null | undefined;
const hits = new Map<string, number>();

/**
 * Test-only fault injection: when BAYES_PEFT_CRASH_AT is `<point>@<n>`, the n-th call with that
 * point kills this process with SIGKILL, which no handler sees (what an OOM killer, a node
 * failure or `kill -9` does). Without the variable it is one comparison.
 */
export function crashPoint(point: string): void {
  if (target === undefined) target = readEnv('BAYES_PEFT_CRASH_AT') ?? null;
  if (target === null || target.point !== point) return;
  const n = (hits.get(point) ?? 0) + 1;
  hits.set(point, n);
  if (n === target.hit) process.kill(process.pid, 'SIGKILL');
}

/** Forgets the parsed variable and the counts (tests that set BAYES_PEFT_CRASH_AT in-process). */
export function resetCrashPoints(env: EnvSource = process.env): void {
  target = readEnv('BAYES_PEFT_CRASH_AT', env) ?? null;
  hits.clear();
}
