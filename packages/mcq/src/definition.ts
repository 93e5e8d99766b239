import type { McqExample } from '@bayes-peft/core';
import type { DataRow } from '@bayes-peft/data';

/** Where a row sits in the split being loaded, for ids of rows that carry none. */
export interface RowPosition {
  /** 0-based position among all rows of the split (all files, in order), before any filtering. */
  readonly index: number;
  /** The split name read (after any fallback, e.g. `train_s`). */
  readonly split: string;
}

/**
 * One multiple-choice dataset as a plugin describes it after reading its options: where the rows
 * live on the hub, how one row becomes a formatted example, and the classes' label strings.
 */
export interface McqDefinition {
  /** Shown in logs and messages (`obqa`, `winogrande_s`, `MMLU-cs`). */
  readonly name: string;
  /** Label strings in class order, before `addSpace` (`A`..`D`, `True`/`False`). */
  readonly labels: readonly string[];
  /** Hub dataset id used when the options name no `source`. */
  readonly repo: string;
  /** Hub config (subset), when the dataset has several. */
  readonly config?: string;
  /** Names the subset shuffle's random stream (`<subsetKey>/<split>`); the plugin's short name. */
  readonly subsetKey: string;
  /** One row (hub schema) as an example; throws RowError naming file, line and field. */
  format(row: DataRow, at: RowPosition): McqExample;
  /** Rows of the split that belong to this dataset (MMLU: the group's subjects); default all. */
  readonly keep?: {
    readonly test: (row: DataRow) => boolean;
    /** What the kept rows are, for the error when none are (`rows of subjects anatomy, virology`). */
    readonly what: string;
  };
  /**
   * Split names to try, in order, when the source has no split of the asked name (WinoGrande's
   * `train` is `train_<size>.jsonl` in a folder laid out like shared/data/winogrande).
   */
  splitFallbacks?(split: string): readonly string[];
}

/** The id of a row: its `field` when present, else `<split>-<index>` (unique within the split). */
export function rowId(row: DataRow, at: RowPosition, field?: string): string {
  if (field) {
    const v = (row.data as Record<string, unknown>)[field];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number') return String(v);
  }
  return `${at.split}-${at.index}`;
}
