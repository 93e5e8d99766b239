import { SpecError } from '@bayes-peft/core';
import { parseSpec } from './load';

const base = `
name: demo
model:
  path: ./model
dataset: toy
wrapper:
  plugin: blob
  options:
    beta: 0.2
`;

describe('run spec', () => {
  it('fills defaults and normalises shorthands', () => {
    const { runs } = parseSpec(base, 'demo.yaml');
    expect(runs).toHaveLength(1);
    const spec = runs[0].spec;
    expect(spec.model).toEqual({ plugin: 'causal-lm', options: { path: './model' } });
    expect(spec.dataset).toEqual({ plugin: 'toy', options: {} });
    expect(spec.train.lr).toBe(1e-4);
    expect(spec.lora.targets).toEqual(['q_proj', 'v_proj', 'lm_head']);
    expect(spec.eval.bins).toBe(15);
  });

  it('names the YAML path, the line, the value and what was expected', () => {
    const text = `${base}train:\n  lr: fast\n`;
    try {
      parseSpec(text, 'demo.yaml');
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(SpecError);
      const msg = (e as Error).message;
      expect(msg).toContain('demo.yaml');
      expect(msg).toContain('line 11: train.lr');
      expect(msg).toContain('expected number');
      expect(msg).toContain('"fast"');
    }
  });

  it('reports unknown keys and bad list entries with their paths', () => {
    expect(() => parseSpec(`${base}lora:\n  rank: 8\n`, 's.yaml')).toThrow(/lora: unknown option 'rank'/);
    expect(() => parseSpec(`${base}lora:\n  targets: [q_proj, qq_proj]\n`, 's.yaml')).toThrow(/line 11: lora\.targets\[1\]/);
  });

  it('expands a matrix into the cross product of its axes', () => {
    const text = `${base}matrix:\n  wrapper: [mle, blob]\n  seed: [1, 2, 3]\n`;
    const { runs } = parseSpec(text, 'm.yaml');
    expect(runs).toHaveLength(6);
    expect(runs.map((r) => `${r.spec.wrapper.plugin}:${r.spec.seed}`)).toEqual(['mle:1', 'mle:2', 'mle:3', 'blob:1', 'blob:2', 'blob:3']);
    expect(runs[4].assignment).toEqual({ wrapper: 'blob', seed: 2 });
  });

  it('merges matrix objects into the base section', () => {
    const text = `${base}matrix:\n  wrapper.options: [{ beta: 0.1 }, { eps: 0.01 }]\n`;
    const { runs } = parseSpec(text, 'm.yaml');
    expect(runs[0].spec.wrapper.options).toEqual({ beta: 0.1 });
    expect(runs[1].spec.wrapper.options).toEqual({ beta: 0.2, eps: 0.01 });
  });

  it('rejects a matrix axis that is not a list', () => {
    expect(() => parseSpec(`${base}matrix:\n  seed: 3\n`, 'm.yaml')).toThrow(/matrix\.seed: expected a non-empty list/);
  });

  it('reports YAML syntax errors with a line', () => {
    expect(() => parseSpec('model: [unclosed\n', 'bad.yaml')).toThrow(/YAML syntax/);
  });
});

describe('matrix over plugin sections', () => {
  it('replaces a section when the matrix names a different plugin, merges when the same', () => {
    const text = `${base}matrix:\n  dataset:\n    - { plugin: toy, options: { trainSize: 8 } }\n    - { plugin: arc, options: { subset: ARC-Easy } }\n`;
    const { runs } = parseSpec(text.replace('dataset: toy', 'dataset: { plugin: toy, options: { testSize: 4 } }'), 'm.yaml');
    expect(runs[0].spec.dataset).toEqual({ plugin: 'toy', options: { testSize: 4, trainSize: 8 } });
    expect(runs[1].spec.dataset).toEqual({ plugin: 'arc', options: { subset: 'ARC-Easy' } });
  });
});
