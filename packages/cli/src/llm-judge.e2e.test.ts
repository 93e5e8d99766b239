import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { silentLogger } from '@bayes-peft/core';
import { findShared } from '@bayes-peft/fixtures';
import { runExperiment } from '@bayes-peft/runner';
import { stringify } from 'yaml';
import { BUILTIN_PLUGINS } from './builtin-plugins';
import { tempDir, triviaqaSpec } from './cli.test-support';

// Open-ended runs on stories260K and real TriviaQA rows scored by the llm-judge scorer's openai
// backend against a stand-in server on 127.0.0.1 (started and stopped here): one that never
// answers (the run fails with a clear error and keeps its generations), one that answers with
// logprobs (the judge's confidences reach predictions.jsonl).
const shared = findShared('', 'open-ended runs scored by the LLM judge on stories260K and TriviaQA rows');
const d = shared ? describe : describe.skip;
const TIMEOUT = 120_000;

const readJsonl = async <T>(file: string): Promise<T[]> =>
  (await fs.readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

/** A server on a free port of 127.0.0.1: `answer` gives the body of a 200, null never answers. */
async function judgeServer(answer: () => unknown): Promise<{ baseUrl: string; calls: () => number; authorization: Set<string | undefined>; close: () => Promise<void> }> {
  let calls = 0;
  const authorization = new Set<string | undefined>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      authorization.add(req.headers.authorization);
      const body = answer();
      if (body === null) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    calls: () => calls,
    authorization,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

d('an open-ended run scored by the LLM judge (openai backend)', () => {
  let dir: string;
  const spec = (output: string, judge: Record<string, unknown>) =>
    triviaqaSpec(shared!, {
      name: 'judged',
      seed: 3,
      output,
      wrapper: 'mle',
      trainExamples: 8,
      testQuestions: 4,
      train: { steps: 1, batchSize: 4, lr: 0.01, maxSeqLen: 96 },
      generation: { maxNewTokens: 6, samples: { intermediate: 2, final: 2 }, batchSize: 4 },
      scorer: { plugin: 'llm-judge', options: { backend: 'openai', model: 'judge', concurrency: 2, ...judge } },
    });
  const run = async (name: string, value: Record<string, unknown>) => {
    const file = path.join(dir, `${name}.yaml`);
    await fs.writeFile(file, stringify(value));
    return runExperiment(file, { log: silentLogger, progress: false, builtinPlugins: BUILTIN_PLUGINS });
  };

  beforeAll(async () => {
    dir = await tempDir('llm-judge-e2e');
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it(
    'fails with a clear error when the judge endpoint never answers, and keeps generations.jsonl',
    async () => {
      const server = await judgeServer(() => null);
      try {
        const output = path.join(dir, 'runs-hang');
        const failure = run('hang', spec(output, { baseUrl: server.baseUrl, timeoutSeconds: 0.3, retries: 1, backoffSeconds: 0.01 }));
        await expect(failure).rejects.toThrow(`llm-judge: POST ${server.baseUrl}/chat/completions failed after 2 attempts: no answer within 0.3 s (timeoutSeconds)`);
        const runDir = path.join(output, 'judged', 'mle-triviaqa-rc.nocontext-seed3');
        const status = JSON.parse(await fs.readFile(path.join(runDir, 'status.json'), 'utf8')) as { state: string };
        expect(status.state).toBe('failed');
        const kept = await readJsonl<{ id: string; answers: { text: string }[] }>(path.join(runDir, 'generations.jsonl'));
        expect(kept).toHaveLength(4);
        for (const g of kept) expect(g.answers).toHaveLength(2);
        // Two questions in flight (concurrency 2), each tried twice, then the run stopped.
        expect(server.calls()).toBeGreaterThanOrEqual(2);
      } finally {
        await server.close();
      }
    },
    TIMEOUT,
  );

  /** Every file under `dir`, recursively. */
  const filesUnder = async (root: string): Promise<string[]> =>
    (await fs.readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));

  it(
    "scores with the judge's confidence from logprobs, and writes the API key to no run file",
    async () => {
      const key = 'sk-e2e-9f8e7d6c5b4a-secret';
      process.env.LLM_JUDGE_E2E_KEY = key;
      const reply = {
        choices: [
          {
            message: { role: 'assistant', content: 'INCORRECT' },
            logprobs: { content: [{ token: 'INCORRECT', logprob: Math.log(0.7), top_logprobs: [{ token: 'INCORRECT', logprob: Math.log(0.7) }, { token: 'CORRECT', logprob: Math.log(0.3) }] }] },
          },
        ],
      };
      const server = await judgeServer(() => reply);
      try {
        const [summary] = await run('ok', spec(path.join(dir, 'runs-ok'), { baseUrl: server.baseUrl, apiKeyEnv: 'LLM_JUDGE_E2E_KEY' }));
        expect([...server.authorization]).toEqual([`Bearer ${key}`]);
        const files = await filesUnder(path.join(dir, 'runs-ok'));
        expect(files.map((f) => path.basename(f))).toEqual(expect.arrayContaining(['predictions.jsonl', 'results.json', 'generations.jsonl']));
        for (const f of files) expect({ file: f, hasKey: (await fs.readFile(f)).includes(key) }).toEqual({ file: f, hasKey: false });
        const rows = await readJsonl<{ samples: { text: string; correct: boolean; confidence: number; detail?: string }[] }>(path.join(summary.dir, 'predictions.jsonl'));
        expect(rows).toHaveLength(4);
        const judged = rows.flatMap((r) => r.samples).filter((s) => s.text.trim().length >= 2);
        expect(judged.length).toBeGreaterThan(0);
        for (const s of judged) {
          expect(s.correct).toBe(false);
          expect(s.confidence).toBeCloseTo(0.3, 12);
        }
        // Identical answers are asked once: never more calls than answers.
        expect(server.calls()).toBeLessThanOrEqual(judged.length);
        expect(server.calls()).toBeGreaterThan(0);
      } finally {
        delete process.env.LLM_JUDGE_E2E_KEY;
        await server.close();
      }
    },
    TIMEOUT,
  );
});
