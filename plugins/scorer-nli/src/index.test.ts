import plugin, { DEFAULT_NLI_MODEL, NliOptions, version } from './index';

describe('nli plugin', () => {
  it('is a judge plugin with its package version', () => {
    expect(plugin.kind).toBe('judge');
    expect(plugin.name).toBe('nli');
    expect(plugin.packageName).toBe('@bayes-peft/scorer-nli');
    expect(plugin.version).toBe(version);
    expect(version).toBe(require('../package.json').version);
  });

  it("defaults to the reference's model, threshold and batch size", () => {
    expect(DEFAULT_NLI_MODEL).toBe('MoritzLaurer/DeBERTa-v3-large-mnli-fever-anli-ling-wanli');
    expect(NliOptions.parse({})).toEqual({ model: DEFAULT_NLI_MODEL, quantized: false, threshold: 0.5, conditionOnQuestion: false, batchSize: 32 });
  });

  it('refuses bad options', () => {
    expect(() => NliOptions.parse({ threshold: 1.5 })).toThrow();
    expect(() => NliOptions.parse({ batchSize: 0 })).toThrow();
    expect(() => NliOptions.parse({ model: '' })).toThrow();
    expect(() => NliOptions.parse({ maxLength: 2 })).toThrow();
    expect(() => NliOptions.parse({ entailmentIndex: 0 })).toThrow();
  });

  it('makes a judge without loading anything (the model loads on the first call)', async () => {
    const judge = plugin.create({ run: { specDir: '/', hub: { offline: true } } as never, options: NliOptions.parse({ model: './nowhere' }) }, NliOptions.parse({ model: './nowhere' }));
    expect(judge.name).toBe('nli');
    expect(typeof judge.entailment).toBe('function');
    await judge.dispose?.();
  });
});
