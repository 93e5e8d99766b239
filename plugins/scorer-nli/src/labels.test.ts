import { readLabels } from './labels';

const id2label = (...names: string[]) => ({ id2label: Object.fromEntries(names.map((n, i) => [String(i), n])) });

describe('the entailment label read from config.json', () => {
  it.each([
    // family, labels in index order, entailment, contradiction
    ['MoritzLaurer DeBERTa-v3 (the reference default)', ['entailment', 'neutral', 'contradiction'], 0, 2],
    ['cross-encoder/nli-deberta-v3', ['contradiction', 'entailment', 'neutral'], 1, 0],
    ['microsoft/deberta-large-mnli, roberta-large-mnli, tiny-nli', ['CONTRADICTION', 'NEUTRAL', 'ENTAILMENT'], 2, 0],
    ['mixed case and spaces', ['Contradiction ', 'Neutral', ' Entailment'], 2, 0],
  ])('%s: %j -> entailment %i, contradiction %i', (_family, names, entailment, contradiction) => {
    expect(readLabels(id2label(...(names as string[])), 'm')).toEqual({ names, entailment, contradiction });
  });

  it('falls back to label2id when id2label is absent', () => {
    expect(readLabels({ label2id: { ENTAILMENT: 1, CONTRADICTION: 0 } }, 'm')).toEqual({ names: ['CONTRADICTION', 'ENTAILMENT'], entailment: 1, contradiction: 0 });
  });

  it('a two-way model (entailment / not_entailment) has no contradiction index', () => {
    expect(readLabels(id2label('entailment', 'not_entailment'), 'm')).toEqual({ names: ['entailment', 'not_entailment'], entailment: 0, contradiction: null });
  });

  it('a config without an entailment label is an error naming the labels it has', () => {
    expect(() => readLabels(id2label('LABEL_0', 'LABEL_1', 'LABEL_2'), '/models/x')).toThrow(
      "NLI model /models/x: config.json's labels are 0: LABEL_0, 1: LABEL_1, 2: LABEL_2; none is 'entailment' (any case), so this is not an NLI model bayes-peft can read",
    );
    expect(() => readLabels(id2label('positive', 'negative'), 'm')).toThrow(/0: positive, 1: negative/);
  });

  it('a config without labels at all is an error', () => {
    expect(() => readLabels({ model_type: 'deberta-v2' }, 'm')).toThrow(/config.json has no id2label/);
  });
});
