import { runCli } from './cli.test-support';

describe('environment variables', () => {
  const saved = { rows: process.env.BAYES_PEFT_ORT_ROWS, fast: process.env.BAYES_PEFT_FAST };
  afterEach(() => {
    for (const [k, v] of [['BAYES_PEFT_ORT_ROWS', saved.rows], ['BAYES_PEFT_FAST', saved.fast]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('a bad one stops the CLI before any work, naming it (no stack trace)', async () => {
    process.env.BAYES_PEFT_ORT_ROWS = 'many';
    const res = await runCli('plugins');
    expect(res).toEqual({ code: 1, stdout: '', stderr: "error: BAYES_PEFT_ORT_ROWS='many' is not a positive integer\n" });
  });

  it('lists every bad one at once', async () => {
    process.env.BAYES_PEFT_ORT_ROWS = 'many';
    process.env.BAYES_PEFT_FAST = 'sometimes';
    const res = await runCli('plugins');
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      "error: bad environment variables:\n  BAYES_PEFT_FAST='sometimes' is not a flag (1, 0, true, false, yes, no, on, off)\n  BAYES_PEFT_ORT_ROWS='many' is not a positive integer\n",
    );
  });
});
