import { ENV } from '@bayes-peft/env';
import { EVAL_ENGINES, type Backbone, type Wrapper } from '../contracts';
import { UserError } from '../errors';
import { resolveEvalEngine } from './eval-engine';

const wrapper = (engines?: readonly ('tfjs' | 'onnxruntime')[]) => ({ name: 'w', engines }) as unknown as Wrapper;
const backbone = (reason: string | null | undefined) =>
  ({ id: 'bb', ...(reason === undefined ? {} : { sampledForward: async () => null, sampledForwardUnavailable: () => reason }) }) as unknown as Backbone;

describe('resolveEvalEngine', () => {
  const saved = { fast: process.env.BAYES_PEFT_FAST, engine: process.env.BAYES_PEFT_EVAL_ENGINE };
  afterEach(() => {
    for (const [k, v] of [['BAYES_PEFT_FAST', saved.fast], ['BAYES_PEFT_EVAL_ENGINE', saved.engine]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  beforeEach(() => {
    delete process.env.BAYES_PEFT_EVAL_ENGINE;
  });

  it('takes onnxruntime under auto when the wrapper lists it and the backbone can run it', () => {
    delete process.env.BAYES_PEFT_FAST;
    expect(resolveEvalEngine('auto', wrapper(['tfjs', 'onnxruntime']), backbone(null))).toEqual({ engine: 'onnxruntime', why: 'eval.engine auto' });
    expect(resolveEvalEngine('onnxruntime', wrapper(['tfjs', 'onnxruntime']), backbone(null)).engine).toBe('onnxruntime');
    expect(resolveEvalEngine('tfjs', wrapper(['tfjs', 'onnxruntime']), backbone(null)).engine).toBe('tfjs');
  });

  it('falls back to tfjs under auto and says why; an explicit onnxruntime that cannot run is a user error', () => {
    delete process.env.BAYES_PEFT_FAST;
    expect(resolveEvalEngine('auto', wrapper(), backbone(null))).toEqual({ engine: 'tfjs', why: 'eval.engine auto: the w wrapper predicts with TensorFlow.js only' });
    expect(resolveEvalEngine('auto', wrapper(['onnxruntime']), backbone(undefined)).why).toBe('eval.engine auto: the backbone bb has no onnxruntime export');
    expect(resolveEvalEngine('auto', wrapper(['onnxruntime']), backbone('onnxruntime-node does not load here (x)')).why).toBe(
      'eval.engine auto: onnxruntime-node does not load here (x)',
    );
    expect(() => resolveEvalEngine('onnxruntime', wrapper(), backbone(null))).toThrow(UserError);
    expect(() => resolveEvalEngine('onnxruntime', wrapper(['onnxruntime']), backbone('the adapter on lm_head (X) has no ONNX export'))).toThrow(
      'eval.engine: onnxruntime cannot run: the adapter on lm_head (X) has no ONNX export (use eval.engine auto or tfjs)',
    );
  });

  it('BAYES_PEFT_EVAL_ENGINE=tfjs replaces auto (only); BAYES_PEFT_FAST=0 does not change the engine', () => {
    process.env.BAYES_PEFT_FAST = '0';
    expect(resolveEvalEngine('auto', wrapper(['onnxruntime']), backbone(null))).toEqual({ engine: 'onnxruntime', why: 'eval.engine auto' });
    process.env.BAYES_PEFT_EVAL_ENGINE = 'tfjs';
    expect(resolveEvalEngine('auto', wrapper(['onnxruntime']), backbone(null))).toEqual({ engine: 'tfjs', why: 'eval.engine auto: BAYES_PEFT_EVAL_ENGINE=tfjs' });
    expect(resolveEvalEngine('onnxruntime', wrapper(['onnxruntime']), backbone(null)).engine).toBe('onnxruntime');
    process.env.BAYES_PEFT_EVAL_ENGINE = 'onnx';
    expect(() => resolveEvalEngine('auto', wrapper(['onnxruntime']), backbone(null))).toThrow("BAYES_PEFT_EVAL_ENGINE='onnx' is not one of auto, tfjs");
  });

  it('takes the variable\'s values from eval.engine\'s', () => {
    expect(ENV.BAYES_PEFT_EVAL_ENGINE.values?.every((v) => (EVAL_ENGINES as readonly string[]).includes(v))).toBe(true);
  });
});
