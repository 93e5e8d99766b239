import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readSafetensors, writeSafetensors } from '@bayes-peft/tensor';
import type { TrainingState, Wrapper } from '@bayes-peft/core';
import { decodeOptimizerStates, encodeOptimizerStates, type OptimizerState } from '@bayes-peft/core';
import type { Rng, RngState } from '@bayes-peft/core';

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
  const state = wrapper.getTrainingState?.();
  let stateIndex: CheckpointInfo['trainingState'] = null;
  if (state) {
    const present = Object.fromEntries(Object.entries(state).filter(([, v]) => v !== null)) as Record<string, OptimizerState>;
    const { tensors, index } = encodeOptimizerStates(present);
    await writeSafetensors(path.join(dir, CHECKPOINT_FILES.trainingState), tensors);
    stateIndex = index;
  }
  const info: CheckpointInfo = { step, trainingState: stateIndex, rng: rng.state() };
  await fs.writeFile(path.join(dir, CHECKPOINT_FILES.checkpoint), `${JSON.stringify(info)}\n`);
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
