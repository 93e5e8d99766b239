import { UserError } from '@bayes-peft/core';
import { z } from 'zod';

/**
 * Which runs of a spec's plan to run, for running a matrix on many machines: one run by its id
 * (a work queue's job), one by its 0-based index in the plan (a Slurm array task's
 * SLURM_ARRAY_TASK_ID, a Kubernetes Indexed Job's JOB_COMPLETION_INDEX), or a shard (the runs
 * whose index mod n is i: n machines split a matrix without coordinating). Indexes are positions
 * in the order planExperiment returns, which depends only on the spec, so every machine reading
 * the same spec agrees on them.
 */
export interface RunSelection {
  readonly run?: string;
  readonly index?: number;
  /** `i/n` (0 <= i < n) or its parsed form. */
  readonly shard?: string | Shard;
}

export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** A run picked from the plan, with its position there (what --index and the logs name it by). */
export interface SelectedRun<T> {
  readonly index: number;
  readonly run: T;
}

const ShardSchema = z.object({ index: z.number().int().min(0), count: z.number().int().min(1) }).refine((s) => s.index < s.count, { message: 'the shard index must be below the shard count (0-based: 0/4 .. 3/4)' });

const SelectionSchema = z
  .object({
    run: z.string().min(1).optional(),
    index: z.number().int().min(0, { message: 'a run index is 0 or more (0-based)' }).optional(),
    shard: z.union([z.string(), ShardSchema]).optional(),
  })
  .refine((s) => [s.run, s.index, s.shard].filter((v) => v !== undefined).length <= 1, { message: 'give at most one of run, index and shard' });

/** `i/n` as a Shard; a UserError saying what a shard looks like otherwise. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
  if (!shard || shard.count < 1 || shard.index >= shard.count) throw new UserError(`shard '${text}' is not i/n with 0 <= i < n (0-based: 0/4 .. 3/4)`);
  return shard;
}

/** The selection validated (a UserError naming what is wrong). */
export function parseSelection(selection: RunSelection): { run?: string; index?: number; shard?: Shard } {
  const parsed = SelectionSchema.safeParse(selection);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`run selection: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  const { shard, ...rest } = parsed.data;
  return { ...rest, ...(shard === undefined ? {} : { shard: typeof shard === 'string' ? parseShard(shard) : shard }) };
}

/** Whether a selection picks anything less than every run. */
export function isPartialSelection(selection: RunSelection | undefined): boolean {
  return !!selection && (selection.run !== undefined || selection.index !== undefined || selection.shard !== undefined);
}

/**
 * The runs a selection picks, in plan order, each with its plan index. No selection: every run.
 * An unknown id or an index out of range is a UserError (a typo must not run nothing quietly);
 * a shard may be empty (more shards than runs).
 */
export function selectRuns<T extends { readonly id: string }>(runs: readonly T[], selection: RunSelection = {}): SelectedRun<T>[] {
  const { run, index, shard } = parseSelection(selection);
  const all = runs.map((r, i) => ({ index: i, run: r }));
  if (run !== undefined) {
    const hit = all.find((r) => r.run.id === run);
    if (!hit) {
      const shown = runs.slice(0, 5).map((r) => r.id);
      const more = runs.length > shown.length ? `, ... (${runs.length} in all; --list prints every one)` : '';
      throw new UserError(`no run '${run}' in this spec; its runs are ${shown.join(', ')}${more}`);
    }
    return [hit];
  }
  if (index !== undefined) {
    if (index >= runs.length) throw new UserError(`run index ${index} is out of range: this spec has ${runs.length} run${runs.length === 1 ? '' : 's'} (indexes 0 to ${runs.length - 1})`);
    return [all[index]];
  }
  if (shard) return all.filter((r) => r.index % shard.count === shard.index);
  return all;
}
