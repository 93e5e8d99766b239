import { UserError } from '@bayes-peft/core';
import { parseShard, selectRuns } from './run-select';

const runs = Array.from({ length: 7 }, (_, i) => ({ id: `run-${i}` }));
const ids = (sel: Parameters<typeof selectRuns>[1]) => selectRuns(runs, sel).map((r) => `${r.index}:${r.run.id}`);

describe('selectRuns', () => {
  it('without a selection gives every run in plan order with its index', () => {
    expect(ids({})).toEqual(['0:run-0', '1:run-1', '2:run-2', '3:run-3', '4:run-4', '5:run-5', '6:run-6']);
  });

  it('picks one run by id or by 0-based index', () => {
    expect(ids({ run: 'run-4' })).toEqual(['4:run-4']);
    expect(ids({ index: 0 })).toEqual(['0:run-0']);
    expect(ids({ index: 6 })).toEqual(['6:run-6']);
  });

  it('shards partition the plan: every run in exactly one shard, index mod n == i', () => {
    const shards = [0, 1, 2].map((i) => ids({ shard: `${i}/3` }));
    expect(shards).toEqual([
      ['0:run-0', '3:run-3', '6:run-6'],
      ['1:run-1', '4:run-4'],
      ['2:run-2', '5:run-5'],
    ]);
    expect(ids({ shard: { index: 1, count: 3 } })).toEqual(shards[1]);
    // More shards than runs: the last ones are empty, not an error.
    expect(ids({ shard: '9/10' })).toEqual([]);
  });

  it('an unknown id lists some ids and the count; an index out of range gives the count', () => {
    expect(() => selectRuns(runs, { run: 'run-9' })).toThrow(new UserError("no run 'run-9' in this spec; its runs are run-0, run-1, run-2, run-3, run-4, ... (7 in all; --list prints every one)"));
    expect(() => selectRuns(runs, { index: 7 })).toThrow('run index 7 is out of range: this spec has 7 runs (indexes 0 to 6)');
    expect(() => selectRuns(runs, { index: -1 })).toThrow('a run index is 0 or more (0-based)');
    expect(() => selectRuns(runs, { index: 1.5 })).toThrow(UserError);
  });

  it('bad shards and two selections at once are refused', () => {
    for (const bad of ['3/3', '1', 'a/b', '0/0', '-1/2']) expect(() => parseShard(bad)).toThrow(`shard '${bad}' is not i/n with 0 <= i < n`);
    expect(parseShard(' 2 / 5 ')).toEqual({ index: 2, count: 5 });
    expect(() => selectRuns(runs, { run: 'run-1', index: 1 })).toThrow('give at most one of run, index and shard');
  });
});
