import type { JudgeItem } from '@bayes-peft/core';
import { closedPort, completion, startServer, type FakeServer, type Reply } from './fake-server.test-support';
import { JUDGE_SYSTEM, judgeUserText } from './judge-prompt';
import { completionsUrl, createOpenAiJudge } from './openai-judge';
import { LlmJudgeOptions, OpenAiJudgeOptions } from './options';
import { JudgeRequestError } from './post-json';

// The openai backend against an OpenAI-compatible stand-in on 127.0.0.1 that each test starts and
// stops. Timeouts and backoff are cut short through the options.
const KEY = 'sk-test-0123456789abcdef-secret';
const ENV = { JUDGE_KEY: KEY };
const item = (candidate: string, reference = 'jupiter'): JudgeItem => ({ id: 'q1', question: 'Which planet is the largest?', references: [reference], candidate });
const options = (baseUrl: string, over: Record<string, unknown> = {}): OpenAiJudgeOptions =>
  OpenAiJudgeOptions.parse({ backend: 'openai', baseUrl, model: 'judge-model', apiKeyEnv: 'JUDGE_KEY', timeoutSeconds: 2, backoffSeconds: 0.01, ...over });

describe('the openai backend against a local server', () => {
  let server: FakeServer | null = null;
  const start = async (reply: (body: Record<string, unknown>, index: number) => Reply | Promise<Reply>) => {
    server = await startServer((r, i) => reply(r.body, i));
    return server;
  };
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  it("sends the reference's messages greedily with logprobs, and takes the confidence from top_logprobs", async () => {
    const s = await start(() => ({
      status: 200,
      body: completion('CORRECT', [
        ['CORRECT', Math.log(0.6)],
        ['INCORRECT', Math.log(0.2)],
        ['Correct', Math.log(0.1)],
        ['The', Math.log(0.05)],
      ]),
    }));
    const [v] = await createOpenAiJudge(options(s.baseUrl), ENV).judge([item('Jupiter')]);
    // P(CORRECT-like) = 0.6 + 0.1, P(INCORRECT-like) = 0.2; 'The' is neither.
    expect(v.correct).toBe(true);
    expect(v.confidence).toBeCloseTo(0.7 / 0.9, 12);
    expect(v.detail).toBe('reply "CORRECT" (first-word CORRECT); confidence 0.7778 from logprobs (P(CORRECT) 0.7000, P(INCORRECT) 0.2000)');
    expect(s.received).toHaveLength(1);
    const [req] = s.received;
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.body).toEqual({
      model: 'judge-model',
      messages: [
        { role: 'system', content: JUDGE_SYSTEM },
        { role: 'user', content: judgeUserText({ question: 'Which planet is the largest?', reference: 'jupiter', candidate: 'Jupiter' }) },
      ],
      temperature: 0,
      max_tokens: 20,
      logprobs: true,
      top_logprobs: 20,
    });
  });

  it('gives confidence 1 or 0 from the parsed reply when the server returns no logprobs', async () => {
    const s = await start((body) => ({ status: 200, body: completion(JSON.stringify(body).includes('Saturn') ? 'Incorrect.' : 'Yes, they match') }));
    const verdicts = await createOpenAiJudge(options(s.baseUrl), ENV).judge([item('Saturn'), item('Jupiter')]);
    expect(verdicts).toEqual([
      { correct: false, confidence: 0, detail: 'reply "Incorrect." (substring INCORRECT); no usable logprobs: confidence from the verdict' },
      { correct: true, confidence: 1, detail: 'reply "Yes, they match" (positive \\bYES\\b); no usable logprobs: confidence from the verdict' },
    ]);
  });

  it('asks for no logprobs with logprobs: false, and sends no key without apiKeyEnv', async () => {
    const s = await start(() => ({ status: 200, body: completion('CORRECT', [['CORRECT', -0.1]]) }));
    const [v] = await createOpenAiJudge(options(s.baseUrl, { logprobs: false, apiKeyEnv: undefined, maxTokens: 5 }), ENV).judge([item('Jupiter')]);
    expect(v).toEqual({ correct: true, confidence: 1, detail: 'reply "CORRECT" (first-word CORRECT); logprobs off: confidence from the verdict' });
    expect(s.received[0].body).not.toHaveProperty('logprobs');
    expect(s.received[0].body).not.toHaveProperty('top_logprobs');
    expect(s.received[0].body.max_tokens).toBe(5);
    expect(s.received[0].headers.authorization).toBeUndefined();
  });

  it('retries 500 twice and succeeds on the third call', async () => {
    const s = await start((_, i) => (i < 2 ? { status: 500, body: { error: { message: 'overloaded' } } } : { status: 200, body: completion('INCORRECT') }));
    const [v] = await createOpenAiJudge(options(s.baseUrl), ENV).judge([item('Mars')]);
    expect(v.correct).toBe(false);
    expect(s.received).toHaveLength(3);
    // The same request each time.
    expect(s.received[2].body).toEqual(s.received[0].body);
  });

  it('retries 429, waiting the Retry-After the server asks for', async () => {
    const s = await start((_, i) => (i === 0 ? { status: 429, body: 'slow down', headers: { 'retry-after': '0.3' } } : { status: 200, body: completion('CORRECT') }));
    const t0 = Date.now();
    const [v] = await createOpenAiJudge(options(s.baseUrl), ENV).judge([item('Jupiter')]);
    expect(v.correct).toBe(true);
    expect(s.received).toHaveLength(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('fails after the last retry naming the URL and the last status, never the key (even when the server echoes it)', async () => {
    const s = await start((_, i) => ({ status: i < 3 ? 503 : 500, body: { error: `bad gateway for Authorization: Bearer ${KEY}` } }));
    const err = await createOpenAiJudge(options(s.baseUrl), ENV)
      .judge([item('Jupiter')])
      .then(
        () => null as never,
        (e: unknown) => e as JudgeRequestError,
      );
    expect(err).toBeInstanceOf(JudgeRequestError);
    expect(err.message).toBe(`llm-judge: POST ${s.baseUrl}/chat/completions failed after 4 attempts: status 500 Internal Server Error: {"error":"bad gateway for Authorization: Bearer [redacted]"}`);
    expect(err.status).toBe(500);
    expect(s.received).toHaveLength(4);
    expect(JSON.stringify(err)).not.toContain(KEY);
    expect(String(err.stack)).not.toContain(KEY);
  });

  it('fails at once on a 4xx other than 429', async () => {
    const s = await start(() => ({ status: 401, body: { error: 'invalid api key' } }));
    await expect(createOpenAiJudge(options(s.baseUrl), ENV).judge([item('Jupiter')])).rejects.toThrow(/failed after 1 attempt: status 401 Unauthorized: \{"error":"invalid api key"\}$/);
    expect(s.received).toHaveLength(1);
  });

  it('keeps the key out of the verdict detail when a reply echoes it', async () => {
    const s = await start((_, i) => ({ status: 200, body: completion(`CORRECT (you sent ${i === 0 ? KEY : 'nothing'})`) }));
    const [v] = await createOpenAiJudge(options(s.baseUrl), ENV).judge([item('Jupiter')]);
    expect(v.detail).not.toContain(KEY);
    expect(v.detail).toContain('you sent [redacted]');
  });

  it('times out a server that never answers, retries, and fails with a clear error', async () => {
    const s = await start(() => 'hang');
    const t0 = Date.now();
    const err = await createOpenAiJudge(options(s.baseUrl, { timeoutSeconds: 0.2, retries: 1 }), ENV)
      .judge([item('Jupiter')])
      .then(
        () => null as never,
        (e: unknown) => e as JudgeRequestError,
      );
    expect(err.message).toBe(`llm-judge: POST ${s.baseUrl}/chat/completions failed after 2 attempts: no answer within 0.2 s (timeoutSeconds)`);
    expect(err.status).toBeNull();
    expect(s.received).toHaveLength(2);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('keeps at most `concurrency` requests in flight and returns the verdicts in order', async () => {
    const s = await start(async (body) => {
      await new Promise((r) => setTimeout(r, 40));
      return { status: 200, body: completion(JSON.stringify(body).includes('Student answer: Jupiter') ? 'CORRECT' : 'INCORRECT') };
    });
    const items = ['Mars', 'Jupiter', 'Venus', 'Jupiter!', 'Saturn', 'Jupiter?', 'Earth'].map((c) => item(c));
    const verdicts = await createOpenAiJudge(options(s.baseUrl, { concurrency: 3 }), ENV).judge(items);
    expect(verdicts.map((v) => v.correct)).toEqual([false, true, false, true, false, true, false]);
    expect(s.received).toHaveLength(7);
    expect(s.maxInFlight()).toBe(3);
  });
});

describe('the openai backend without a server', () => {
  it('fails on a refused connection with a clear error naming the URL', async () => {
    const port = await closedPort();
    const baseUrl = `http://127.0.0.1:${port}/v1`;
    const err = await createOpenAiJudge(options(baseUrl, { retries: 2 }), ENV)
      .judge([item('Jupiter')])
      .then(
        () => null as never,
        (e: unknown) => e as JudgeRequestError,
      );
    expect(err).toBeInstanceOf(JudgeRequestError);
    expect(err.message).toBe(`llm-judge: POST ${baseUrl}/chat/completions failed after 3 attempts: no connection (ECONNREFUSED)`);
  });

  it('asks nothing for candidates shorter than 2 characters', async () => {
    const port = await closedPort();
    const verdicts = await createOpenAiJudge(options(`http://127.0.0.1:${port}/v1`), ENV).judge([item('J'), item('')]);
    expect(verdicts.map((v) => v.correct)).toEqual([false, false]);
  });

  it('reads the key from the environment variable apiKeyEnv names, and says which is missing', () => {
    expect(() => createOpenAiJudge(options('http://127.0.0.1:1/v1'), {})).toThrow('llm-judge: apiKeyEnv names JUDGE_KEY, which is not set in the environment (export the API key under that name)');
    expect(() => createOpenAiJudge(options('http://127.0.0.1:1/v1'), { JUDGE_KEY: '  ' })).toThrow(/JUDGE_KEY, which is not set/);
  });

  it('refuses a key given in apiKeyEnv without repeating it', () => {
    const r = LlmJudgeOptions.safeParse({ backend: 'openai', baseUrl: 'http://127.0.0.1:8000/v1', model: 'm', apiKeyEnv: KEY });
    expect(r.success).toBe(false);
    const text = JSON.stringify(r.error!.issues);
    expect(text).toContain('apiKeyEnv is the NAME of an environment variable holding the key');
    expect(text).not.toContain(KEY);
  });

  it('appends /chat/completions to the API root unless it is there already', () => {
    expect(completionsUrl('http://127.0.0.1:8000/v1')).toBe('http://127.0.0.1:8000/v1/chat/completions');
    expect(completionsUrl('http://127.0.0.1:8000/v1/')).toBe('http://127.0.0.1:8000/v1/chat/completions');
    expect(completionsUrl('https://host/openai/v1/chat/completions')).toBe('https://host/openai/v1/chat/completions');
  });
});
