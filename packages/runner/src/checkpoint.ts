import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readSafetensors, writeFileAtomic, writeSafetensors } from '@bayes-peft/tensor';
import type { TrainingState, Wrapper } from '@bayes-peft/core';
import { decodeOptimizerStates, encodeOptimizerStates, type OptimizerState } from '@bayes-peft/core';
import type { Rng, RngState } from '@bayes-peft/core';
import { crashPoint } from '@bayes-peft/env';

/** The files a checkpoint adds to the wrapper's saved adapter. */
export const CHECKPOINT_FILES = {
  /** `{ step, trainingState, rng }`: the step, the optimizer-state index and the random streams' state. */
  checkpoint: 'checkpoint.json',
  /** The optimizers' buffers (see encodeOptimizerStates). */
  trainingState: 'training_state.safetensors',
} as const;

export interface CheckpointInfo {
  /** Steps done when the checkpoint was written. */
  readonly step: number;
  /** Index of training_state.safetensors; null for a wrapper without optimizer state. */
  readonly trainingState: ReturnType<typeof encodeOptimizerStates>['index'] | null;
  /** The run's random streams (Rng.state of the run's root); absent in checkpoints older than it. */
  readonly rng?: RngState;
}

/**
 * Everything a run needs to continue after `step` steps as if it had never stopped, written into
 * `dir`: the adapter (`wrapper.save`), the optimizers' state, and the state of the run's random
 * streams (`rng` is the run's root: its numbered sequences, e.g. every wrapper's predict calls so
 * far, are the only random state that is not a function of the seed and the step; see rng.ts).
 * The runner writes into a fresh folder and swaps it in; restoreCheckpoint reads it back.
 */
export async function writeCheckpoint(dir: string, wrapper: Wrapper, rng: Rng, step: number): Promise<void> {
  await wrapper.save(dir);
  crashPoint('checkpoint:adapter');
  const state = wrapper.getTrainingState?.();
  let stateIndex: CheckpointInfo['trainingState'] = null;
  if (state) {
    const present = Object.fromEntries(Object.entries(state).filter(([, v]) => v !== null)) as Record<string, OptimizerState>;
    const { tensors, index } = encodeOptimizerStates(present);
    await writeSafetensors(path.join(dir, CHECKPOINT_FILES.trainingState), tensors);
    stateIndex = index;
    crashPoint('checkpoint:state');
  }
  const info: CheckpointInfo = { step, trainingState: stateIndex, rng: rng.state() };
  // Last, and whole or absent: a folder with a readable checkpoint.json is a whole checkpoint.
  await writeFileAtomic(path.join(dir, CHECKPOINT_FILES.checkpoint), `${JSON.stringify(info)}\n`);
}

/** The checkpoint.json of `dir`; null when there is none (or it is unreadable). */
export async function readCheckpoint(dir: string): Promise<CheckpointInfo | null> {
  try {
    const info = JSON.parse(await fs.readFile(path.join(dir, CHECKPOINT_FILES.checkpoint), 'utf8')) as CheckpointInfo;
    return typeof info?.step === 'number' ? info : null;
  } catch {
    return null;
  }
}

/**
 * Why a checkpoint cannot continue a run with this wrapper, or null when it can: it needs the
 * optimizers' state, a wrapper that takes it back, and the random streams' state.
 */
export function unresumableReason(info: CheckpointInfo, wrapper: Wrapper): string | null {
  if (!info.trainingState) return 'it holds no optimizer state';
  if (!wrapper.setTrainingState) return `${wrapper.name} cannot restore optimizer state`;
  if (!info.rng) return 'it predates saving the random streams, so the rest of the run would draw different numbers';
  return null;
}

/**
 * Puts a wrapper (attached, and prepared when it trains, as for a fresh run) and the run's root
 * Rng in the state writeCheckpoint saved in `dir`: the adapter, the optimizers (when the
 * checkpoint has them) and the random streams. Returns the checkpoint's step. The runner resumes
 * only when unresumableReason finds nothing missing.
 */
export async function restoreCheckpoint(dir: string, wrapper: Wrapper, rng: Rng, info?: CheckpointInfo): Promise<number> {
  const checkpoint = info ?? (await readCheckpoint(dir));
  if (!checkpoint) throw new Error(`${dir}: no checkpoint (${CHECKPOINT_FILES.checkpoint}) to resume from`);
  await wrapper.load(dir);
  if (checkpoint.trainingState) {
    if (!wrapper.setTrainingState) throw new Error(`${dir}: the checkpoint holds optimizer state, and ${wrapper.name} has no setTrainingState()`);
    const { tensors } = await readSafetensors(path.join(dir, CHECKPOINT_FILES.trainingState));
    wrapper.setTrainingState(decodeOptimizerStates(checkpoint.trainingState, tensors) as TrainingState);
  }
  if (checkpoint.rng) rng.restore(checkpoint.rng);
  return checkpoint.step;
}

/** The folders of the swap that writes a checkpoint (saveCheckpoint): the new one is written into `tmp`, the old one moved to `old`. */
function swapFolders(adapterDir: string): { tmp: string; old: string } {
  return { tmp: `${adapterDir}.tmp`, old: `${adapterDir}.old` };
}

/**
 * Writes a checkpoint (writeCheckpoint) into a fresh `<adapterDir>.tmp`, then swaps it in, so
 * `adapterDir` is one whole checkpoint whenever it exists. A write that fails (a full disk)
 * leaves `adapterDir` as it was; a process killed part way leaves what recoverCheckpoint mends.
 */
export async function saveCheckpoint(adapterDir: string, wrapper: Wrapper, rng: Rng, step: number): Promise<void> {
  const { tmp, old } = swapFolders(adapterDir);
  await fs.rm(tmp, { recursive: true, force: true });
  try {
    await writeCheckpoint(tmp, wrapper, rng, step);
  } catch (e) {
    // adapterDir is untouched until the swap below; the half-written folder is dropped (on a full
    // disk it holds space the user needs back).
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw checkpointWriteError(e, adapterDir, step);
  }
  crashPoint('checkpoint:written');
  // Linux cannot rename a folder over a non-empty one: move the old one aside first.
  await fs.rm(old, { recursive: true, force: true });
  await fs.rename(adapterDir, old).catch(() => undefined);
  crashPoint('checkpoint:swap');
  await fs.rename(tmp, adapterDir);
  await fs.rm(old, { recursive: true, force: true });
}

/** A disk-full (or over-quota) checkpoint write, said plainly: which step, and that the previous checkpoint stands. Other errors pass as they are. */
function checkpointWriteError(e: unknown, adapterDir: string, step: number): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return e;
  const what = code === 'ENOSPC' ? 'no space left on the device' : 'disk quota exceeded';
  const err = new Error(
    `checkpoint at step ${step} not written: ${what} (${(e as Error).message}); the previous checkpoint in ${adapterDir} is kept. ` +
      'Free some space and run the same command again to resume from it.',
    { cause: e },
  );
  return Object.assign(err, { code });
}

/**
 * The newest whole checkpoint among `adapterDir` and what a swap cut short by a kill leaves beside
 * it: `.tmp` once its checkpoint.json is there (written last, atomically), `.old` when the kill
 * fell between the swap's two renames. Null when there is none.
 */
export async function newestCheckpoint(adapterDir: string): Promise<{ dir: string; info: CheckpointInfo } | null> {
  const { tmp, old } = swapFolders(adapterDir);
  let best: { dir: string; info: CheckpointInfo } | null = null;
  for (const dir of [adapterDir, tmp, old]) {
    const info = await readCheckpoint(dir);
    if (info && (!best || info.step > best.info.step)) best = { dir, info };
  }
  return best;
}

/**
 * Puts the newest whole checkpoint (newestCheckpoint) at `adapterDir` and removes the swap's
 * leftovers, before a run resumes. Only the holder of the run's lock may call it. Returns what it
 * moved, for the log; null when there was nothing to mend.
 */
export async function recoverCheckpoint(adapterDir: string): Promise<string | null> {
  const { tmp, old } = swapFolders(adapterDir);
  const leftovers = (await Promise.all([tmp, old].map((d) => fs.stat(d).then(() => true, () => false)))).some(Boolean);
  if (!leftovers) return null;
  const newest = await newestCheckpoint(adapterDir);
  let moved: string | null = null;
  if (newest && newest.dir !== adapterDir) {
    await fs.rm(adapterDir, { recursive: true, force: true });
    await fs.rename(newest.dir, adapterDir);
    moved = `the checkpoint at step ${newest.info.step} from ${path.basename(newest.dir)} (a checkpoint write was cut short)`;
  }
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.rm(old, { recursive: true, force: true });
  return moved;
}
