import type { SpecIssue } from '@bayes-peft/core';

export type MatrixAssignment = Record<string, unknown>;

/** A matrix this big is a typo (or a hostile file), not an experiment: refuse it before expanding. */
export const MAX_MATRIX_RUNS = 10_000;

/**
 * `matrix:` maps dotted spec paths to lists; the spec expands to the cross product, each run
 * taking one value per path (objects are merged into what the base spec has there).
 *
 *     matrix:
 *       wrapper: [mle, blob]
 *       seed: [1, 2, 3]
 */
export function expandMatrix(
  base: Record<string, unknown>,
  matrix: unknown,
  fail: (issues: (SpecIssue & { segments: (string | number)[] })[]) => Error,
): { assignment: MatrixAssignment; value: Record<string, unknown> }[] {
  if (matrix === undefined || matrix === null) return [{ assignment: {}, value: base }];
  if (typeof matrix !== 'object' || Array.isArray(matrix)) {
    throw fail([{ path: 'matrix', segments: ['matrix'], message: 'expected a mapping of spec paths to lists of values' }]);
  }
  const axes = Object.entries(matrix as Record<string, unknown>);
  for (const [key, values] of axes) {
    if (!Array.isArray(values) || values.length === 0) {
      throw fail([{ path: `matrix.${key}`, segments: ['matrix', key], message: `expected a non-empty list of values; got ${JSON.stringify(values)}` }]);
    }
    if (key === 'matrix' || key.split('.').some((s) => s === '')) {
      throw fail([{ path: `matrix.${key}`, segments: ['matrix', key], message: 'not a spec path' }]);
    }
  }
  let total = 1;
  for (const [, values] of axes) {
    total *= (values as unknown[]).length;
    if (total > MAX_MATRIX_RUNS) {
      throw fail([{ path: 'matrix', segments: ['matrix'], message: `expands to more than ${MAX_MATRIX_RUNS} runs (${axes.map(([, v]) => (v as unknown[]).length).join(' x ')}); split the spec` }]);
    }
  }
  let runs: { assignment: MatrixAssignment; value: Record<string, unknown> }[] = [{ assignment: {}, value: base }];
  for (const [key, values] of axes) {
    const next: typeof runs = [];
    for (const run of runs) {
      for (const v of values as unknown[]) {
        next.push({ assignment: { ...run.assignment, [key]: v }, value: setPath(run.value, key.split('.'), v) });
      }
    }
    runs = next;
  }
  return runs;
}

function setPath(obj: Record<string, unknown>, keys: string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = keys;
  const current = obj[head];
  if (rest.length === 0) {
    // A different plugin brings its own options: replace the section rather than mixing them.
    const otherPlugin = isPlainObject(current) && isPlainObject(value) && 'plugin' in value && value.plugin !== current.plugin;
    const merged = isPlainObject(current) && isPlainObject(value) && !otherPlugin ? deepMerge(current, value) : value;
    return { ...obj, [head]: merged };
  }
  return { ...obj, [head]: setPath(isPlainObject(current) ? current : {}, rest, value) };
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isPlainObject(out[k]) && isPlainObject(v) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
