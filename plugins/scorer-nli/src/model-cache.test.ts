import { createNliJudge } from './nli-judge';
import { nliModelCacheState, releaseIdleNliModels } from './model-cache';
import { NliOptions } from './options';
import { runContext, tinyNliDir } from './tiny-nli.test-support';

const dir = tinyNliDir('the shared NLI model tests');

(dir ? describe : describe.skip)('one loaded NLI model per process, shared by the runs of a matrix', () => {
  const make = (options: Record<string, unknown> = {}) => createNliJudge(runContext(), NliOptions.parse({ model: dir, threads: 1, ...options }));
  afterEach(() => releaseIdleNliModels());

  it('judges with the same model and loading options share one model; options that do not affect loading do not split it', async () => {
    const a = make();
    const b = make({ threshold: 0.7, batchSize: 4, conditionOnQuestion: true });
    const [ma, mb] = await Promise.all([a.model(), b.model()]);
    expect(ma).toBe(mb);
    expect(nliModelCacheState()).toEqual([expect.objectContaining({ refs: 2, loaded: true })]);
    await a.dispose();
    await b.dispose();
  });

  it('a model whose judges are all disposed stays loaded for the next run, and is freed when another model loads', async () => {
    const first = make();
    const model = await first.model();
    await first.dispose();
    // Disposing twice gives back one reference only.
    await first.dispose();
    expect(nliModelCacheState()).toEqual([expect.objectContaining({ refs: 0, loaded: true })]);
    await expect(first.model()).rejects.toThrow('NLI model used after its judge was disposed');

    // The next run of the matrix: same model, no second load.
    const second = make();
    expect(await second.model()).toBe(model);
    await second.dispose();

    // Another max length is another loading: the idle model is freed when it loads.
    const other = make({ maxLength: 128 });
    const otherModel = await other.model();
    expect(otherModel).not.toBe(model);
    expect(otherModel.tokenizer.maxLength).toBe(128);
    expect(nliModelCacheState()).toEqual([expect.objectContaining({ refs: 1, loaded: true })]);
    await other.dispose();
    await releaseIdleNliModels();
    expect(nliModelCacheState()).toEqual([]);
  });

  it('a model that fails to load is not kept: the next call tries again', async () => {
    const bad = make({ model: `${dir}/missing` });
    await expect(bad.model()).rejects.toThrow(/no such folder/);
    await expect(bad.model()).rejects.toThrow(/no such folder/);
    expect(nliModelCacheState()).toEqual([expect.objectContaining({ refs: 1, loaded: false })]);
    await bad.dispose();
  });
});
