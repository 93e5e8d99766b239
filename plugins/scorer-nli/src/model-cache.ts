import type { NliModel } from './nli-model';

/** A judge's hold on a shared model: loaded on the first `get`, given back by `release`. */
export interface ModelLease {
  get(): Promise<NliModel>;
  /** Gives the reference back (once; later calls do nothing). */
  release(): Promise<void>;
}

interface Entry {
  refs: number;
  /** Set on the first `get` of any lease. */
  model: Promise<NliModel> | null;
}

/**
 * Loaded NLI models of this process, by what decides the loading (the model's absolute folder or
 * hub id and revision, the graph file, max length, threads): every run of a matrix in one process
 * shares one model, where the reference loads it again at every evaluation (defect 17).
 *
 * Each judge holds a reference from `create` to `dispose`. A model whose last reference is given
 * back stays loaded, so the next run of the matrix, made after the previous one has disposed
 * everything, finds it; it is freed when a model under another key is loaded (at most one
 * unreferenced model is kept) or by `releaseIdleNliModels()`.
 */
const entries = new Map<string, Entry>();

export function leaseModel(key: string, load: () => Promise<NliModel>): ModelLease {
  let entry = entries.get(key);
  if (!entry) entries.set(key, (entry = { refs: 0, model: null }));
  entry.refs++;
  const held = entry;
  let released = false;
  return {
    get: () => {
      if (released) return Promise.reject(new Error('NLI model used after its judge was disposed'));
      if (!held.model) {
        void releaseIdle(key);
        held.model = load();
        // A failed load is not cached: the next run (or a fixed spec) tries again.
        held.model.catch(() => {
          if (entries.get(key) === held) held.model = null;
        });
      }
      return held.model;
    },
    release: async () => {
      if (released) return;
      released = true;
      held.refs--;
    },
  };
}

/** Frees every loaded model no judge holds (all but `keep`'s). */
export async function releaseIdleNliModels(): Promise<void> {
  await releaseIdle(null);
}

async function releaseIdle(keep: string | null): Promise<void> {
  for (const [key, entry] of [...entries]) {
    if (key === keep || entry.refs > 0) continue;
    entries.delete(key);
    const model = await entry.model?.catch(() => null);
    await model?.dispose();
  }
}

/** How many models are loaded or loading, and how many references they have: for tests. */
export function nliModelCacheState(): { key: string; refs: number; loaded: boolean }[] {
  return [...entries].map(([key, e]) => ({ key, refs: e.refs, loaded: e.model !== null }));
}
