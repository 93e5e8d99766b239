import { UserError } from '@bayes-peft/core';

/** Slurm's default MaxArraySize (slurm.conf): array task ids go from 0 to MaxArraySize - 1. */
export const DEFAULT_MAX_ARRAY_SIZE = 1001;

/**
 * One sbatch submission's share of the runs: its array task ids and the offset that turns a task
 * id back into a run index (run index = task id + offset). Task ids must stay below the
 * cluster's MaxArraySize, so a plan of more runs than that needs several submissions.
 */
export interface ArrayChunk {
  readonly offset: number;
  /** Ascending, each < MaxArraySize. */
  readonly taskIds: readonly number[];
}

/**
 * The run indexes (0-based plan positions, any order, no duplicates) split into chunks whose task
 * ids fit under `maxArraySize`. Offsets are multiples of maxArraySize, so run i is always task
 * i mod maxArraySize of chunk floor(i / maxArraySize): predictable when reading a log name.
 */
export function splitArray(indexes: readonly number[], maxArraySize: number): ArrayChunk[] {
  if (!Number.isInteger(maxArraySize) || maxArraySize < 1) throw new UserError(`MaxArraySize must be a whole number from 1, got ${maxArraySize}`);
  const sorted = [...indexes].sort((a, b) => a - b);
  for (const [k, i] of sorted.entries()) {
    if (!Number.isInteger(i) || i < 0) throw new UserError(`a run index is a whole number from 0, got ${i}`);
    if (k > 0 && sorted[k - 1] === i) throw new UserError(`run index ${i} is given twice`);
  }
  const chunks = new Map<number, number[]>();
  for (const i of sorted) {
    const offset = Math.floor(i / maxArraySize) * maxArraySize;
    const ids = chunks.get(offset) ?? [];
    ids.push(i - offset);
    chunks.set(offset, ids);
  }
  return [...chunks].map(([offset, taskIds]) => ({ offset, taskIds }));
}

/**
 * sbatch's --array value: ascending task ids as ranges (`0-89`, `1,4-6,9`), with `%K` when at
 * most K tasks may run at once.
 */
export function arraySpec(taskIds: readonly number[], maxParallel?: number): string {
  if (taskIds.length === 0) throw new UserError('an array needs at least one task');
  const parts: string[] = [];
  let start = taskIds[0];
  let prev = start;
  const close = () => parts.push(start === prev ? `${start}` : `${start}-${prev}`);
  for (const id of taskIds.slice(1)) {
    if (id <= prev) throw new UserError(`array task ids must ascend without repeats (${prev} then ${id})`);
    if (id !== prev + 1) {
      close();
      start = id;
    }
    prev = id;
  }
  close();
  return `${parts.join(',')}${maxParallel === undefined ? '' : `%${maxParallel}`}`;
}

/**
 * Run indexes from a list like `4`, `0-9,17`: what `--index` of `submit slurm` takes (the same
 * 0-based positions as `bayes-peft experiment --list`). Checked against the run count.
 */
export function parseIndexList(text: string, runCount: number): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new UserError(`'${text}' is not a list of run indexes like 4 or 0-9,17 (0-based, as bayes-peft experiment --list counts)`);
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (b < a) throw new UserError(`the range ${a}-${b} runs backwards`);
    if (b >= runCount) throw new UserError(`run index ${b} is out of range: this spec has ${runCount} run${runCount === 1 ? '' : 's'} (indexes 0 to ${runCount - 1})`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}
