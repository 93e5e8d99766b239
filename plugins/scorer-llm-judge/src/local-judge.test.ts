import * as path from 'node:path';
import { Rng, silentLogger, type Backbone, type JudgeItem, type Logger, type RunContext } from '@bayes-peft/core';
import { loadCausalLm, type CausalLm } from '@bayes-peft/backbone-causal-lm';
import { findShared } from '@bayes-peft/fixtures';
import { createRunSession } from '@bayes-peft/runner';
import plugin, { askLocal, JUDGE_SYSTEM, judgeUserText, LlmJudgeOptions, localQuestion, TOO_SHORT_DETAIL, type JudgeQuestion, type LocalJudgeSettings } from './index';
import { LLAMA3_STYLE_TEMPLATE, modelWithChatTemplate, NO_SYSTEM_TEMPLATE } from './judge-model.test-support';

// The local backend on stories260K, a real (tiny) Llama that knows no trivia: its replies are
// nonsense, so these tests check the mechanics (the prompt, one BOS, greedy replies, the
// confidence's tokens and numbers), not the verdicts.
const shared = findShared('models/stories260K', 'the local LLM-judge tests on stories260K');
const d = shared ? describe : describe.skip;
const TIMEOUT = 60_000;

const q: JudgeQuestion = { question: 'Which planet is the largest in the solar system?', reference: 'jupiter', candidate: 'It is Jupiter' };
const settings = (over: Partial<LocalJudgeSettings> = {}): LocalJudgeSettings => ({
  maxNewTokens: 20,
  batchSize: 8,
  useChatTemplate: true,
  maxReferences: 1,
  maxSeqLen: 512,
  ctx: { training: false, rng: new Rng(0) },
  ...over,
});
const bosCount = (m: Backbone, ids: readonly number[]) => ids.filter((id) => id === m.tokenizer.bosTokenId).length;

d('the local judge on stories260K with a Llama 3 style chat template', () => {
  let model: CausalLm;
  let remove: () => Promise<void>;

  beforeAll(async () => {
    const m = await modelWithChatTemplate(shared!, LLAMA3_STYLE_TEMPLATE);
    remove = m.remove;
    model = await loadCausalLm(m.dir);
  });
  afterAll(async () => {
    model?.dispose();
    await remove?.();
  });

  it("builds the prompt with the model's own chat template: the reference's texts, one BOS", () => {
    const lq = localQuestion(model, q, settings());
    // The template writes {{ bos_token }} and the tokenizer adds BOS too: the rendered BOS is cut.
    const expected =
      `<|start_header_id|>system<|end_header_id|>\n\n${JUDGE_SYSTEM}<|eot_id|>` +
      `<|start_header_id|>user<|end_header_id|>\n\n${judgeUserText(q)}<|eot_id|>` +
      '<|start_header_id|>assistant<|end_header_id|>\n\n';
    expect(lq.prompt).toEqual({ text: expected, answerPrefix: '', style: 'chat-template' });
    expect(lq.ids[0]).toBe(model.tokenizer.bosTokenId);
    expect(bosCount(model, lq.ids)).toBe(1);
    // Rendered and encoded as is, it would start with two (the reference's double BOS).
    const raw = model.tokenizer.applyChatTemplate!([{ role: 'system', content: JUDGE_SYSTEM }, { role: 'user', content: judgeUserText(q) }], { addGenerationPrompt: true });
    expect(model.tokenizer.encode(raw).slice(0, 2)).toEqual([model.tokenizer.bosTokenId, model.tokenizer.bosTokenId]);
  });

  it('reads the confidence at the first answer token: the two words part right after the prompt', () => {
    const lq = localQuestion(model, q, settings());
    expect(lq.answer.context).toEqual(lq.ids);
    const yes = model.tokenizer.encode(lq.prompt.text + 'CORRECT');
    const no = model.tokenizer.encode(lq.prompt.text + 'INCORRECT');
    expect(yes.slice(0, lq.ids.length)).toEqual(lq.ids);
    expect(yes[lq.ids.length]).toBe(lq.answer.correct);
    expect(no[lq.ids.length]).toBe(lq.answer.incorrect);
    expect(lq.answer.correct).not.toBe(lq.answer.incorrect);
  });

  it(
    'gives a confidence in [0, 1] equal to the two-way softmax of the two tokens\' logits from a direct forward',
    async () => {
      const questions = [q, { ...q, candidate: 'Saturn' }, { ...q, question: 'Who wrote Hamlet?', reference: 'william shakespeare', candidate: 'Shakespeare' }];
      const answers = await askLocal(model, questions, settings());
      for (const [i, question] of questions.entries()) {
        const lq = localQuestion(model, question, settings());
        // The whole vocabulary's logits at the last prompt position, one prompt alone.
        const batch = model.toTensors({ ids: [lq.ids as number[]], mask: [lq.ids.map(() => 1)] });
        const t = model.forward(batch, { output: 'last', ctx: { training: false, rng: new Rng(0) } });
        const logits = (await t.data()) as Float32Array;
        t.dispose();
        batch.inputIds.dispose();
        batch.attentionMask.dispose();
        const [lc, li] = [logits[lq.answer.correct], logits[lq.answer.incorrect]];
        const expected = Math.exp(lc) / (Math.exp(lc) + Math.exp(li));
        expect(answers[i].confidence).toBeGreaterThanOrEqual(0);
        expect(answers[i].confidence).toBeLessThanOrEqual(1);
        // The judge's forward is batched (left padded), this one is not: float32 rounding apart.
        expect(answers[i].confidence).toBeCloseTo(expected, 4);
        expect(answers[i].detail).toMatch(/^reply ".*" \((first-word|substring|negative|positive|default)[^)]*\); confidence 0\.\d{4} from the first answer token's CORRECT\/INCORRECT logits$/s);
      }
    },
    TIMEOUT,
  );

  it(
    'replies greedily: the same reply and confidence on every call, and alone as in a batch',
    async () => {
      const questions = [q, { ...q, candidate: 'Mars' }, { ...q, question: 'What is the capital of France?', reference: 'paris', candidate: 'Paris' }];
      const first = await askLocal(model, questions, settings({ ctx: { training: false, rng: new Rng(1) } }));
      const again = await askLocal(model, questions, settings({ ctx: { training: false, rng: new Rng(2) } }));
      expect(again).toEqual(first);
      const alone = await askLocal(model, questions, settings({ batchSize: 1 }));
      expect(alone.map((a) => a.detail.replace(/; confidence .*/, ''))).toEqual(first.map((a) => a.detail.replace(/; confidence .*/, '')));
      for (const [i, a] of alone.entries()) expect(a.confidence).toBeCloseTo(first[i].confidence, 4);
      // The reply is at most 20 tokens.
      for (const a of first) {
        const reply = JSON.parse(/^reply (".*?[^\\]") \(/s.exec(a.detail)![1]) as string;
        expect(model.tokenizer.encode(reply, { addSpecialTokens: false }).length).toBeLessThanOrEqual(21);
      }
    },
    TIMEOUT,
  );

  it('puts the system text into the user turn for a template that refuses a system message', async () => {
    const m = await modelWithChatTemplate(shared!, NO_SYSTEM_TEMPLATE);
    const tokenizerOnly = await loadCausalLm(m.dir);
    try {
      const lq = localQuestion(tokenizerOnly, q, settings());
      expect(lq.prompt.style).toBe('chat-template-no-system');
      expect(lq.prompt.text).toBe(`<turn>user\n${JUDGE_SYSTEM}\n\n${judgeUserText(q)}<end>\n<turn>model\n`);
      expect(bosCount(tokenizerOnly, lq.ids)).toBe(1);
    } finally {
      tokenizerOnly.dispose();
      await m.remove();
    }
  });
});

d('the local judge on a model without a chat template', () => {
  it('uses the documented plain-text prompt, one BOS, and scores the answer word after a space', async () => {
    const model = await loadCausalLm(shared!);
    try {
      expect(model.tokenizer.applyChatTemplate).toBeUndefined();
      const lq = localQuestion(model, { ...q, context: 'The solar system has eight planets.' }, settings());
      expect(lq.prompt).toEqual({
        text:
          'You are an expert answer evaluator. Judge if two answers mean the same thing.\n\n' +
          'Context: The solar system has eight planets.\nQuestion: Which planet is the largest in the solar system?\n\n' +
          'Ground truth answer: jupiter\nStudent answer: It is Jupiter\n\n' +
          'Does the student answer match the ground truth? Reply with exactly one word: CORRECT or INCORRECT\n\nAnswer:',
        answerPrefix: ' ',
        style: 'plain',
      });
      expect(bosCount(model, lq.ids)).toBe(1);
      const yes = model.tokenizer.encode(`${lq.prompt.text} CORRECT`);
      expect(yes[lq.answer.context.length]).toBe(lq.answer.correct);
      // The answer word's tokens follow the context (here the space is a token of its own for CORRECT).
      expect(model.tokenizer.decode(yes.slice(lq.answer.context.length)).trim()).toBe('CORRECT');
    } finally {
      model.dispose();
    }
  });
});

d('the llm-judge plugin with the local backend', () => {
  it(
    'loads the judge model from a folder relative to the spec, shares it between runs, and judges a batch in order',
    async () => {
      const lines: string[] = [];
      const log: Logger = { ...silentLogger, info: (m: string) => void lines.push(m) };
      const run = { seed: 1, rng: new Rng(1), log, specDir: path.dirname(shared!), hub: { offline: true } } as unknown as RunContext;
      const options = LlmJudgeOptions.parse({ backend: 'local', model: 'stories260K', engine: 'tfjs' });
      const judgeOfRun = () => createRunSession({ context: run, judge: { plugin, options } }).judge();
      const judge = judgeOfRun();
      expect(judge.name).toBe('llm-judge');
      const item = (candidate: string): JudgeItem => ({ id: 'q', question: q.question, references: ['jupiter', 'jupiter planet'], candidate });
      const verdicts = await judge.judge([item('Jupiter'), item('J'), item(' '), item('Saturn'), item('Jupiter')]);
      expect(verdicts).toHaveLength(5);
      // Shorter than 2 characters: wrong without a question.
      expect(verdicts[1]).toEqual({ correct: false, confidence: 0, detail: TOO_SHORT_DETAIL });
      expect(verdicts[2]).toEqual(verdicts[1]);
      // The same candidate twice is asked once, and gets one verdict.
      expect(verdicts[4]).toEqual(verdicts[0]);
      for (const v of [verdicts[0], verdicts[3]]) expect(v.detail).toMatch(/^reply /);
      const loadedLine = `llm-judge: judge model ${path.join(path.dirname(shared!), 'stories260K')}, prompt through the plain-text prompt, greedy replies on tfjs`;
      // A second run's judge (a matrix) shares the model: the same verdicts, no second load.
      const second = judgeOfRun();
      const [again] = await second.judge([item('Saturn')]);
      expect(again.detail).toBe(verdicts[3].detail);
      // Alone rather than in a padded batch: float32 rounding apart.
      expect(again.confidence).toBeCloseTo(verdicts[3].confidence, 5);
      expect(lines.filter((l) => l.startsWith('llm-judge:'))).toEqual([loadedLine, 'llm-judge: judge model stories260K shared with an earlier run']);
      // Freed when its last user is done: a later judge loads it again.
      await judge.dispose!();
      await second.dispose!();
      const third = judgeOfRun();
      await third.judge([item('Mars')]);
      expect(lines.filter((l) => l.startsWith('llm-judge:')).slice(2)).toEqual([loadedLine]);
      await third.dispose!();
    },
    TIMEOUT,
  );
});
