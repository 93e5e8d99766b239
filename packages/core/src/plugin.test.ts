import { z } from 'zod';
import { createRunSession, defineBackbone, defineDataset, defineJudge, Rng, silentLogger, TOKENS, type Backbone, type Judge, type McqDataset, type RunContext } from './index';

const run = { seed: 3, rng: new Rng(3), log: silentLogger } as unknown as RunContext;
const Options = z.object({ n: z.number().default(2) }).strict();

describe('defineBackbone / defineDataset / defineJudge', () => {
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
    const d = a.container.resolve(TOKENS.Dataset);
    expect(a.container.resolve(TOKENS.Dataset)).toBe(d);
    expect(d.name).toBe('fake-2-3');
    const b = createRunSession({ context: run, dataset: { plugin, options: Options.parse({}) } });
    expect(b.container.resolve(TOKENS.Dataset)).not.toBe(d);
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
    // createRunSession takes no judge yet, so the plugin registers into the session's container directly.
    const a = createRunSession({ context: run });
    plugin.register(a.container, Options.parse({ n: 4 }));
    const j = a.container.resolve(TOKENS.Judge);
    expect(a.container.resolve(TOKENS.Judge)).toBe(j);
    expect(j.name).toBe('fake-4');
    expect(await j.judge([{ id: 'q', question: '', references: ['x'], candidate: 'x' }])).toEqual([{ correct: true, confidence: 1 }]);
    expect(seen).toEqual([run, { n: 4 }, { n: 4 }]);
    const b = createRunSession({ context: run });
    plugin.register(b.container, Options.parse({}));
    expect(b.container.resolve(TOKENS.Judge)).not.toBe(j);
  });

  it('requires create', () => {
    expect(() => defineDataset({ name: 'x', version: '0', description: '', options: Options } as never)).toThrow(/'create' is required/);
    expect(() => defineJudge({ name: 'x', version: '0', description: '', options: Options } as never)).toThrow(/defineJudge: 'create' is required \(judge 'x'\)/);
  });
});
