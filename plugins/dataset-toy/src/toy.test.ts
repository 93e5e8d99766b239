import { Rng, silentLogger, type McqDataset, type RunContext } from '@bayes-peft/core';
import plugin, { generateToyRows, TOY_OBJECTS, toyVocabulary, ToyOptions } from './index';

const defaults = ToyOptions.parse({});

describe('dataset-toy', () => {
  it('generates the documented prompt, deterministically from its seed', () => {
    const a = generateToyRows('train', 512, defaults);
    const b = generateToyRows('train', 512, defaults);
    expect(a).toEqual(b);
    expect(generateToyRows('train', 5, { ...defaults, seed: 1 })).not.toEqual(a.slice(0, 5));
    expect(generateToyRows('test', 5, defaults)).not.toEqual(a.slice(0, 5));
    const r = a[0];
    expect(r.prompt).toBe(
      'Return the label of the correct answer for the question below.\n\n' +
        `Question: ${r.prompt.split('\n')[2].slice('Question: '.length)}\n` +
        'Choices:\nA) red box\nB) blue box\nC) green box\nD) yellow box\nAnswer:',
    );
    expect(r.prompt.split('\n')[2]).toMatch(new RegExp(`^Question: .*\\b${r.object}\\b.*\\?$`));
    expect(TOY_OBJECTS[r.box]).toContain(r.object);
    expect(r.cleanLabel).toBe(['red', 'blue', 'green', 'yellow'].indexOf(r.box));
  });

  it('uses every label, with about labelNoise of the rows relabelled', () => {
    const rows = generateToyRows('train', 4000, defaults);
    const counts = [0, 0, 0, 0];
    for (const r of rows) counts[r.label]++;
    for (const c of counts) expect(c / rows.length).toBeGreaterThan(0.2);
    const noisy = rows.filter((r) => r.label !== r.cleanLabel).length / rows.length;
    expect(noisy).toBeGreaterThan(0.08);
    expect(noisy).toBeLessThan(0.12);
    expect(generateToyRows('train', 500, { ...defaults, labelNoise: 0 }).every((r) => r.label === r.cleanLabel)).toBe(true);
  });

  it('is learnable from the words of the prompt, up to the noise (naive Bayes reaches ~1 - labelNoise)', () => {
    const words = (p: string) => p.split('Question: ')[1].split('\n')[0].toLowerCase().match(/[a-z]+/g)!;
    const train = generateToyRows('train', 512, defaults);
    const counts = new Map<string, number[]>();
    for (const r of train) for (const w of words(r.prompt)) (counts.get(w) ?? counts.set(w, [1, 1, 1, 1]).get(w)!)[r.label]++;
    const test = generateToyRows('test', 1000, defaults);
    let correct = 0;
    for (const r of test) {
      const score = [0, 1, 2, 3].map((k) => words(r.prompt).reduce((s, w) => s + Math.log((counts.get(w) ?? [1, 1, 1, 1])[k]), 0));
      if (score.indexOf(Math.max(...score)) === r.label) correct++;
    }
    expect(correct / test.length).toBeGreaterThan(0.82);
    // ... and not by the majority class.
    const majority = Math.max(...[0, 1, 2, 3].map((k) => test.filter((r) => r.label === k).length)) / test.length;
    expect(majority).toBeLessThan(0.35);
  });

  it('shuffleChoices moves the boxes and the answer with them', () => {
    const rows = generateToyRows('train', 200, { ...defaults, shuffleChoices: true, labelNoise: 0 });
    for (const r of rows.slice(0, 20)) {
      const line = r.prompt.split('\n').find((l) => l.startsWith(`${'ABCD'[r.label]}) `))!;
      expect(line).toBe(`${'ABCD'[r.label]}) ${r.box} box`);
    }
    expect(new Set(rows.map((r) => r.prompt.split('\n')[4])).size).toBeGreaterThan(1);
  });

  it('has a small fixed vocabulary covering every prompt', () => {
    const vocab = toyVocabulary();
    expect(vocab.length).toBeLessThan(120);
    for (const w of ['Return', 'Question', 'Choices', 'Answer', ':', ')', '?', '.', 'A', 'D', 'tomato', 'shiny', 'box']) expect(vocab).toContain(w);
    const set = new Set(vocab);
    for (const r of generateToyRows('train', 300, { ...defaults, shuffleChoices: true, maxAdjectives: 3 })) {
      for (const w of r.prompt.match(/[A-Za-z]+|[^\sA-Za-z]/g)!) expect(set.has(w)).toBe(true);
    }
  });

  it("its plugin's create makes the McqDataset it declares, with the options applied", async () => {
    const context = { seed: 0, rng: new Rng(0), log: silentLogger } as unknown as RunContext;
    const options = plugin.options.parse({ trainSize: 10, testSize: 7, addSpace: true });
    const ds = plugin.create({ run: context, options }, options) as McqDataset;
    expect(plugin.task).toBe('mcq');
    expect(ds.kind).toBe('mcq');
    expect(ds.labels).toEqual([' A', ' B', ' C', ' D']);
    const train = await ds.load('train');
    expect(train).toHaveLength(10);
    expect(await ds.load('test')).toHaveLength(7);
    expect(await ds.load('anchor')).toHaveLength(128);
    expect(Object.keys(train[0]).sort()).toEqual(['id', 'label', 'prompt']);
    expect(train[0].id).toBe('toy-train-0');
    expect(() => plugin.options.parse({ trainsize: 3 })).toThrow();
  });
});
