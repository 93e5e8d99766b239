import { z } from 'zod';
import { defineBackbone, defineDataset, defineJudge, defineWrapper, isPlugin } from './plugin';

const Options = z.object({ n: z.number().default(2) }).strict();
const base = { name: 'x', version: '0.0.0', description: 'test', options: Options };

describe('define*', () => {
  it('returns the definition as a frozen plain object with its kind', () => {
    const create = () => ({}) as never;
    for (const [define, kind] of [
      [defineWrapper, 'wrapper'],
      [defineBackbone, 'backbone'],
      [defineDataset, 'dataset'],
      [defineJudge, 'judge'],
    ] as const) {
      const def = kind === 'dataset' ? { ...base, task: 'open', create } : { ...base, create };
      const plugin = (define as (d: unknown) => { kind: string; create: unknown; name: string })(def);
      expect(plugin).toEqual({ ...def, kind });
      expect(Object.isFrozen(plugin)).toBe(true);
      expect(isPlugin(plugin)).toBe(true);
    }
  });

  it('requires name, version, options and a create function, naming the function and the plugin', () => {
    expect(() => defineDataset({ ...base, task: 'mcq' } as never)).toThrow("defineDataset: 'create' is required (dataset 'x')");
    expect(() => defineDataset({ ...base, create: () => null } as never)).toThrow("defineDataset: 'task' must be 'mcq' or 'open' (dataset 'x'), got undefined");
    expect(() => defineJudge({ ...base, version: undefined, create: () => null } as never)).toThrow("defineJudge: 'version' is required (judge 'x')");
    expect(() => defineWrapper({ ...base, create: 'no' } as never)).toThrow("defineWrapper: 'create' must be a function (wrapper 'x')");
  });

  it('tells plugins from other exports', () => {
    expect(isPlugin({ name: 'x', kind: 'wrapper' })).toBe(false);
    expect(isPlugin({ name: 'x', kind: 'evaluator', create: () => null })).toBe(false);
    expect(isPlugin(null)).toBe(false);
  });
});
