import { z } from 'zod';
import { describeOptions, optionsMarkdown } from './describe-options';
import { toSpecIssue } from './load';

describe('describeOptions', () => {
  it('flattens nested objects into dotted keys with types, defaults and meanings', () => {
    const schema = z.object({
      lr: z.number().min(0).default(0.01).describe('learning rate'),
      compat: z.object({ swap: z.boolean().default(true).describe('swap it') }),
      mode: z.enum(['a', 'b']).optional(),
    });
    expect(describeOptions(schema)).toEqual([
      { key: 'lr', type: 'number [0, inf)', default: '0.01', description: 'learning rate' },
      { key: 'compat.swap', type: 'boolean', default: 'true', description: 'swap it' },
      { key: 'mode', type: '"a" \\| "b"', default: '', description: '' },
    ]);
  });

  // A plugin with two backends behind one option (scorer-llm-judge's `backend: local | openai`).
  const backends = z.discriminatedUnion('backend', [
    z.object({
      backend: z.literal('local').describe('where the judge runs'),
      model: z.string().describe('the model'),
      batchSize: z.number().int().positive().default(8).describe('prompts at once'),
      retries: z.number().int().min(0).default(0).describe('never retried'),
    }),
    z.object({
      backend: z.literal('openai'),
      model: z.string().describe('the model'),
      baseUrl: z.string().describe('the server'),
      retries: z.number().int().min(0).default(3).describe('retries on 5xx'),
    }),
  ]);

  it('describes a discriminated union: the key listing its values, shared options once, the others labelled with their variant', () => {
    expect(describeOptions(backends)).toEqual([
      { key: 'backend', type: '"local" \\| "openai"', default: '', description: 'where the judge runs' },
      { key: 'model', type: 'string', default: '', description: 'the model' },
      { key: 'batchSize', type: 'integer (0, inf)', default: '8', description: '(backend: local) prompts at once' },
      // In both variants but with different defaults: one row each.
      { key: 'retries', type: 'integer [0, inf)', default: '0', description: '(backend: local) never retried' },
      { key: 'retries', type: 'integer [0, inf)', default: '3', description: '(backend: openai) retries on 5xx' },
      { key: 'baseUrl', type: 'string', default: '', description: '(backend: openai) the server' },
    ]);
    expect(optionsMarkdown(describeOptions(backends))).toContain('| `batchSize` | integer (0, inf) | `8` | (backend: local) prompts at once |');
  });

  it("reports a discriminator naming no variant with the schema's own message and the value given", () => {
    const withMessage = z.discriminatedUnion('backend', backends.options, { error: "backend must be 'local' or 'openai'" });
    const options = { backend: 'vllm', model: 'm' };
    const [issue] = withMessage.safeParse(options).error!.issues;
    expect(toSpecIssue(issue, options, () => 7, ['scorer', 'options'])).toEqual({
      path: 'scorer.options.backend',
      message: "backend must be 'local' or 'openai'; got \"vllm\"",
      line: 7,
    });
    const [missing] = withMessage.safeParse({ model: 'm' }).error!.issues;
    expect(toSpecIssue(missing, { model: 'm' }, () => undefined, ['scorer', 'options']).message).toBe("backend must be 'local' or 'openai'; got nothing");
  });
});
