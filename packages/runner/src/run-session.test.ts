import { z } from 'zod';
import { defineBackbone, defineDataset, defineJudge, defineWrapper, LoraConfigSchema, Rng, silentLogger, type Backbone, type Judge, type McqDataset, type RunContext, type Wrapper } from '@bayes-peft/core';
import { createRunSession } from './run-session';

const run = { seed: 3, rng: new Rng(3), log: silentLogger } as unknown as RunContext;
const Options = z.object({ n: z.number().default(2) }).strict();

describe('createRunSession binds each plugin kind', () => {
  it('registers a backbone loader made by create(ctx, options)', async () => {
    const seen: unknown[] = [];
    const fake = { id: 'fake' } as unknown as Backbone;
    const plugin = defineBackbone({
      name: 'fake',
      version: '0.0.0',
      description: 'test',
      options: Options,
      create: (ctx, options) => {
        seen.push(ctx.run, ctx.options, options);
        return { load: async () => fake };
      },
    });
    expect(plugin.kind).toBe('backbone');
    const session = createRunSession({ context: run, backbone: { plugin, options: Options.parse({ n: 5 }) } });
    expect(await session.loadBackbone()).toBe(fake);
    expect(seen).toEqual([run, { n: 5 }, { n: 5 }]);
  });

  it('registers one dataset per run session', () => {
    let made = 0;
    const plugin = defineDataset({
      name: 'fake',
      task: 'mcq',
      version: '0.0.0',
      description: 'test',
      options: Options,
      create: ({ run: r, options }) => {
        made++;
        return { kind: 'mcq', name: `fake-${options.n}-${r.seed}` } as unknown as McqDataset;
      },
    });
    expect(plugin.kind).toBe('dataset');
    const a = createRunSession({ context: run, dataset: { plugin, options: Options.parse({}) } });
    const d = a.dataset();
    expect(a.dataset()).toBe(d);
    expect(d.name).toBe('fake-2-3');
    const b = createRunSession({ context: run, dataset: { plugin, options: Options.parse({}) } });
    expect(b.dataset()).not.toBe(d);
    expect(made).toBe(2);
  });

  it('registers one judge per run session, made by create(ctx, options)', async () => {
    const seen: unknown[] = [];
    const plugin = defineJudge({
      name: 'fake',
      version: '0.0.0',
      description: 'test',
      options: Options,
      create: (ctx, options) => {
        seen.push(ctx.run, ctx.options, options);
        const judge: Judge = {
          name: `fake-${options.n}`,
          judge: async (items) => items.map((it) => ({ correct: it.references.includes(it.candidate), confidence: it.references.includes(it.candidate) ? 1 : 0 })),
        };
        return judge;
      },
    });
    expect(plugin.kind).toBe('judge');
    const a = createRunSession({ context: run, judge: { plugin, options: Options.parse({ n: 4 }) } });
    const j = a.judge();
    expect(a.judge()).toBe(j);
    expect(j.name).toBe('fake-4');
    expect(await j.judge([{ id: 'q', question: '', references: ['x'], candidate: 'x' }])).toEqual([{ correct: true, confidence: 1 }]);
    expect(seen).toEqual([run, { n: 4 }, { n: 4 }]);
    const b = createRunSession({ context: run, judge: { plugin, options: Options.parse({}) } });
    expect(b.judge()).not.toBe(j);
  });

  it('makes the wrapper with the run, the LoRA config and its options, once per session', () => {
    const lora = LoraConfigSchema.parse({});
    const seen: unknown[] = [];
    const plugin = defineWrapper({
      name: 'fake',
      version: '0.0.0',
      description: 'test',
      options: Options,
      create: (ctx) => {
        seen.push(ctx.run, ctx.lora, ctx.options);
        return { name: 'fake' } as unknown as Wrapper;
      },
    });
    const session = createRunSession({ context: run, lora, wrapper: { plugin, options: Options.parse({}) } });
    expect(session.wrapper()).toBe(session.wrapper());
    expect(seen).toEqual([run, lora, { n: 2 }]);
    expect(() => createRunSession({ context: run }).wrapper()).toThrow('this run session has no wrapper plugin');
    expect(() => createRunSession({ context: run, wrapper: { plugin, options: {} } }).wrapper()).toThrow("wrapper 'fake': the run session has no LoRA config");
  });

});
