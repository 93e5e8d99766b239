import { arraySpec, parseIndexList, splitArray } from './array';

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('arraySpec: the --array value', () => {
  it('writes consecutive task ids as ranges and adds %K', () => {
    expect(arraySpec(range(0, 89), 8)).toBe('0-89%8');
    expect(arraySpec([1, 4, 5, 6, 9])).toBe('1,4-6,9');
    expect(arraySpec([5])).toBe('5');
    expect(arraySpec([0, 2], 1)).toBe('0,2%1');
  });

  it('refuses no tasks and ids that do not ascend', () => {
    expect(() => arraySpec([])).toThrow('at least one task');
    expect(() => arraySpec([3, 2])).toThrow('ascend');
    expect(() => arraySpec([3, 3])).toThrow('ascend');
  });
});

describe('splitArray: task ids under MaxArraySize', () => {
  it('keeps one chunk at offset 0 while every index fits', () => {
    expect(splitArray(range(0, 89), 1001)).toEqual([{ offset: 0, taskIds: range(0, 89) }]);
  });

  it('splits at multiples of MaxArraySize, so run i is task i mod M of chunk floor(i / M)', () => {
    const chunks = splitArray(range(0, 2499), 1001);
    expect(chunks.map((c) => [c.offset, c.taskIds.length, c.taskIds[0], c.taskIds.at(-1)])).toEqual([
      [0, 1001, 0, 1000],
      [1001, 1001, 0, 1000],
      [2002, 498, 0, 497],
    ]);
    // Every run index appears exactly once as task id + offset.
    expect(chunks.flatMap((c) => c.taskIds.map((t) => t + c.offset))).toEqual(range(0, 2499));
  });

  it('sparse indexes (--only-pending) sorted into their chunks', () => {
    expect(splitArray([1500, 3, 7], 1001)).toEqual([
      { offset: 0, taskIds: [3, 7] },
      { offset: 1001, taskIds: [499] },
    ]);
  });

  it('refuses a bad MaxArraySize, negative or repeated indexes', () => {
    expect(() => splitArray([0], 0)).toThrow('MaxArraySize');
    expect(() => splitArray([-1], 10)).toThrow('whole number from 0');
    expect(() => splitArray([2, 2], 10)).toThrow('given twice');
  });
});

describe('parseIndexList: --index of submit slurm', () => {
  it('reads single indexes and ranges, sorted without repeats', () => {
    expect(parseIndexList('4', 7)).toEqual([4]);
    expect(parseIndexList('5, 0-2,2', 7)).toEqual([0, 1, 2, 5]);
  });

  it('names what is wrong', () => {
    expect(() => parseIndexList('7', 7)).toThrow('run index 7 is out of range: this spec has 7 runs (indexes 0 to 6)');
    expect(() => parseIndexList('3-1', 7)).toThrow('runs backwards');
    expect(() => parseIndexList('a', 7)).toThrow("'a' is not a list of run indexes");
  });
});
