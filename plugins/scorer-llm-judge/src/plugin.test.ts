import { Rng, silentLogger, type RunContext } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';
import plugin, { LlmJudgeOptions, version } from './index';
import { completion, startServer } from './fake-server.test-support';

describe('the llm-judge plugin', () => {
  it('is a judge plugin with its package version', () => {
    expect(plugin.kind).toBe('judge');
    expect(plugin.name).toBe('llm-judge');
    expect(plugin.packageName).toBe('@bayes-peft/scorer-llm-judge');
    expect(plugin.version).toBe(version);
    expect(version).toBe(require('../package.json').version);
  });

  it('documents its defaults per backend', () => {
    expect(LlmJudgeOptions.parse({ backend: 'local', model: 'meta-llama/Llama-3.2-1B-Instruct' })).toEqual({
      backend: 'local',
      model: 'meta-llama/Llama-3.2-1B-Instruct',
      maxNewTokens: 20,
      batchSize: 8,
      chatTemplate: 'auto',
      engine: 'auto',
      maxReferences: 1,
    });
    expect(LlmJudgeOptions.parse({ backend: 'openai', baseUrl: 'http://127.0.0.1:8000/v1', model: 'm' })).toEqual({
      backend: 'openai',
      baseUrl: 'http://127.0.0.1:8000/v1',
      model: 'm',
      temperature: 0,
      maxTokens: 20,
      logprobs: true,
      topLogprobs: 20,
      concurrency: 4,
      timeoutSeconds: 60,
      retries: 3,
      backoffSeconds: 1,
      maxReferences: 1,
    });
  });

  it("refuses bad options: no backend, another backend's options, a missing endpoint", () => {
    const issues = (v: unknown) => LlmJudgeOptions.safeParse(v).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ model: 'm' })).toEqual(["backend: backend must be 'local' or 'openai'"]);
    expect(issues({ backend: 'vllm', model: 'm' })).toEqual(["backend: backend must be 'local' or 'openai'"]);
    expect(issues({ backend: 'local', model: 'm', baseUrl: 'http://x/v1' })).toEqual([': Unrecognized key: "baseUrl"']);
    expect(issues({ backend: 'openai', model: 'm', maxNewTokens: 5 })).toEqual(['baseUrl: Invalid input: expected string, received undefined', ': Unrecognized key: "maxNewTokens"']);
    expect(issues({ backend: 'openai', model: 'm', baseUrl: 'not a url' })).toEqual(['baseUrl: Invalid URL']);
    expect(issues({ backend: 'openai', model: 'm', baseUrl: 'http://x/v1', topLogprobs: 50 })).toHaveLength(1);
  });

  it('makes the openai judge through a run session, which reads the key from the environment', async () => {
    const server = await startServer(() => ({ status: 200, body: completion('CORRECT') }));
    process.env.LLM_JUDGE_TEST_KEY = 'k-123';
    try {
      const options = LlmJudgeOptions.parse({ backend: 'openai', baseUrl: server.baseUrl, model: 'm', apiKeyEnv: 'LLM_JUDGE_TEST_KEY' });
      const session = createRunSession({ context: { seed: 1, rng: new Rng(1), log: silentLogger } as unknown as RunContext, judge: { plugin, options } });
      const judge = session.judge();
      expect(judge.name).toBe('llm-judge');
      expect(await judge.judge([{ id: 'q', question: 'Q?', references: ['paris'], candidate: 'Paris' }])).toEqual([
        { correct: true, confidence: 1, detail: 'reply "CORRECT" (first-word CORRECT); no usable logprobs: confidence from the verdict' },
      ]);
      expect(server.received[0].headers.authorization).toBe('Bearer k-123');
    } finally {
      delete process.env.LLM_JUDGE_TEST_KEY;
      await server.close();
    }
  });
});
