import { tf } from '@bayes-peft/tensor';
import { chatTemplateContext, type Backbone, type ChatMessage, type EncodedBatch, type OpenExample, type Tokenizer } from '@bayes-peft/core';
import { answerRow, disposeTrainBatch, makeAnswerBatch } from './answer-batch';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const PAD = 0;
const BOS = 1;
const EOS = 2;
/** A chat model's end of turn: an EOS id beside EOS (as Llama 3's <|eot_id|>). */
const EOT = 3;
const USER = 4;
const ASSISTANT = 5;
const VOCAB: Record<string, number> = {
  '<s>': BOS,
  '</s>': EOS,
  '<|eot|>': EOT,
  '<|user|>': USER,
  '<|assistant|>': ASSISTANT,
  'Question:': 10,
  where: 11,
  is: 12,
  the: 13,
  'ball?': 14,
  'Answer:': 15,
  in: 16,
  box: 17,
  // One token across the prompt/answer boundary, as BPE merges make them.
  'Answer: in': 20,
};

/**
 * A word tokenizer: special tokens in angle brackets, words split on spaces, and the longest
 * vocabulary entry (which may span words) taken first. Adds BOS with special tokens; its chat
 * template writes BOS itself, as Llama 3's does.
 */
class StubTokenizer implements Tokenizer {
  readonly vocabSize = 32;
  readonly bosTokenId = BOS;
  readonly eosTokenId = EOS;
  readonly eosTokenIds = [EOS, EOT];
  readonly padTokenId = PAD;
  readonly addsBos = true;
  constructor(private readonly merges = false) {}

  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    const words = text.split(/(<[^>]+>)|\s+/).filter((w): w is string => !!w);
    const ids: number[] = options.addSpecialTokens === false ? [] : [BOS];
    for (let i = 0; i < words.length; ) {
      const two = `${words[i]} ${words[i + 1]}`;
      if (this.merges && i + 1 < words.length && two in VOCAB) {
        ids.push(VOCAB[two]);
        i += 2;
        continue;
      }
      if (!(words[i] in VOCAB)) throw new Error(`stub tokenizer: '${words[i]}' is not in the vocabulary`);
      ids.push(VOCAB[words[i++]]);
    }
    return ids;
  }

  decode(ids: readonly number[]): string {
    return ids.map((id) => Object.keys(VOCAB).find((k) => VOCAB[k] === id)).join(' ');
  }

  applyChatTemplate(messages: ChatMessage[], options: { addGenerationPrompt: boolean }): string {
    const turns = messages.map((m) => `<|${m.role}|> ${m.content} <|eot|>`).join(' ');
    return `<s>${turns}${options.addGenerationPrompt ? ' <|assistant|>' : ''}`;
  }
}

function backboneOf(tokenizer: Tokenizer): Backbone {
  return {
    tokenizer,
    toTensors(b: EncodedBatch) {
      return { inputIds: tf.tensor2d(b.ids, undefined, 'int32'), attentionMask: tf.tensor2d(b.mask, undefined, 'int32') };
    },
  } as unknown as Backbone;
}

const open = (id: string, prompt: string, answer: string | undefined): OpenExample => ({
  id,
  question: prompt,
  prompt,
  references: [answer ?? ''],
  trainText: answer === undefined ? undefined : `${prompt} ${answer}`,
});

const BALL = open('ball', 'Question: where is the ball? Answer:', 'in the box');
const SHORT = open('short', 'Answer:', 'box');

describe('makeAnswerBatch', () => {
  it('left pads, appends EOS, and scores exactly the answer tokens: targets are the inputs shifted by one in their own tensor', () => {
    const before = tf.memory().numTensors;
    const batch = makeAnswerBatch(backboneOf(new StubTokenizer()), [BALL, SHORT], 64);
    expect(batch.kind).toBe('answer');
    expect(batch.ids).toEqual(['ball', 'short']);
    // BALL: <s> Question: where is the ball? Answer: | in the box </s>; SHORT: <s> Answer: | box </s>, 7 pads in front
    expect(batch.tokens.inputIds.arraySync()).toEqual([
      [BOS, 10, 11, 12, 13, 14, 15, 16, 13, 17, EOS],
      [PAD, PAD, PAD, PAD, PAD, PAD, PAD, BOS, 15, 17, EOS],
    ]);
    expect(batch.tokens.attentionMask.arraySync()).toEqual([
      [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1],
    ]);
    expect(batch.targets.arraySync()).toEqual([
      [10, 11, 12, 13, 14, 15, 16, 13, 17, EOS, 0],
      [0, 0, 0, 0, 0, 0, 0, 15, 17, EOS, 0],
    ]);
    // position t is scored when token t + 1 is an answer token: 'in', 'the', 'box', EOS; 'box', EOS. Prompt, pads and the last position are not.
    expect(batch.weights.arraySync()).toEqual([
      [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0],
      [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0],
    ]);
    expect(batch.targets.dtype).toBe('int32');
    expect(batch.weights.dtype).toBe('float32');
    // defect 5: the labels are not the inputs (another tensor; writing to one cannot touch the other)
    expect(batch.targets.id).not.toBe(batch.tokens.inputIds.id);
    expect(batch.targets.dataId).not.toBe(batch.tokens.inputIds.dataId);
    disposeTrainBatch(batch);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('masks the whole chat-templated prompt up to the assistant turn, keeps one BOS (defect 25) and ends at the end-of-turn EOS', () => {
    const tokenizer = new StubTokenizer();
    const chat = chatTemplateContext(tokenizer).applyChatTemplate!;
    const example: OpenExample = { id: 'chat', question: 'q', prompt: chat('where is the ball?'), references: ['in the box'], trainText: chat('where is the ball?', 'in the box') };
    const batch = makeAnswerBatch(backboneOf(tokenizer), [example], 64);
    const ids = batch.tokens.inputIds.arraySync()[0];
    // <s> <|user|> where is the ball? <|eot|> <|assistant|> | in the box <|eot|>: no </s> appended after the end of turn
    expect(ids).toEqual([BOS, USER, 11, 12, 13, 14, EOT, ASSISTANT, 16, 13, 17, EOT]);
    expect(ids.filter((id) => id === BOS)).toHaveLength(1);
    expect(batch.weights.arraySync()[0]).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0]);
    expect(batch.targets.arraySync()[0].slice(7, 11)).toEqual([16, 13, 17, EOT]);
    disposeTrainBatch(batch);
    // rendered without chatTemplateContext, the template's BOS and the tokenizer's make two: refused
    const raw = tokenizer.applyChatTemplate([{ role: 'user', content: 'where is the ball?' }], { addGenerationPrompt: true });
    const doubled: OpenExample = { ...example, prompt: raw, trainText: `${raw} in the box <|eot|>` };
    expect(() => makeAnswerBatch(backboneOf(tokenizer), [doubled], 64)).toThrow(/two BOS tokens \(defect 25\)/);
  });

  it('starts the answer at the longest common prefix when a token spans the prompt/answer boundary', () => {
    const row = answerRow(new StubTokenizer(true), BALL, 64);
    // 'Answer: in' is one token (20): the prompt's last token is not a prefix of the text's ids
    expect(row.ids).toEqual([BOS, 10, 11, 12, 13, 14, 20, 13, 17, EOS]);
    expect(row.answerStart).toBe(6);
  });

  it('truncates from the left keeping BOS, so the answer survives; an answer longer than the row keeps its start, with a warning', () => {
    const tokenizer = new StubTokenizer();
    const cut = answerRow(tokenizer, BALL, 6);
    expect(cut).toEqual({ ids: [BOS, 15, 16, 13, 17, EOS], answerStart: 2 });
    const warnings: string[] = [];
    const batch = makeAnswerBatch(backboneOf(tokenizer), [BALL], 4, { warn: (m) => warnings.push(m) });
    // one token of context ('Answer:') before the answer's first two tokens; no EOS
    expect(batch.tokens.inputIds.arraySync()).toEqual([[BOS, 15, 16, 13]]);
    expect(batch.weights.arraySync()).toEqual([[0, 1, 1, 0]]);
    expect(warnings).toEqual([expect.stringMatching(/example ball: its answer \(4 tokens with EOS\) does not fit in train.maxSeqLen 4; training on its first 2 tokens only/)]);
    disposeTrainBatch(batch);
    expect(() => answerRow(tokenizer, BALL, 1)).toThrow(/maxSeqLen must be an integer >= 2/);
  });

  it('refuses, naming the example, a missing training text, one that adds no answer token, and one that does not start with its prompt', () => {
    const tokenizer = new StubTokenizer();
    expect(() => answerRow(tokenizer, open('none', 'Answer:', undefined), 64)).toThrow(/example none has no training text/);
    expect(() => answerRow(tokenizer, { ...SHORT, id: 'same', trainText: SHORT.prompt }, 64)).toThrow(/example same: its training text adds no answer token/);
    const chat = chatTemplateContext(tokenizer).applyChatTemplate!;
    expect(() => answerRow(tokenizer, { ...SHORT, id: 'empty-turn', prompt: chat('where is the ball?'), trainText: chat('where is the ball?', '') }, 64)).toThrow(
      /example empty-turn: its training text adds no answer token/,
    );
    expect(() => answerRow(tokenizer, { ...SHORT, id: 'moved', trainText: 'Question: box' }, 64)).toThrow(/example moved: its training text does not start with its prompt/);
  });
});
