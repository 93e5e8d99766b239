import { ENV } from '@bayes-peft/env';
import { EVAL_ENGINES, type Backbone, type EvalEngine } from '@bayes-peft/core';
import { UserError } from '@bayes-peft/core';
import { resolveEvalEngine, selectEvalEngine } from './eval-engine';

/** A backbone whose onnxruntime engine is blocked by `reason` (null: it runs; undefined: no engine choice at all). */
const backbone = (reason: string | null | undefined, used: EvalEngine[] = []) =>
  ({
    id: 'bb',
    ...(reason === undefined ? {} : { engineUnavailable: (e: EvalEngine) => (e === 'onnxruntime' ? reason : null), useEngine: (e: EvalEngine) => used.push(e) }),
  }) as unknown as Backbone;

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

  it('takes onnxruntime under auto when the backbone can run it', () => {
    delete process.env.BAYES_PEFT_FAST;
    expect(resolveEvalEngine('auto', backbone(null))).toEqual({ engine: 'onnxruntime', why: 'eval.engine auto' });
    expect(resolveEvalEngine('onnxruntime', backbone(null)).engine).toBe('onnxruntime');
    expect(resolveEvalEngine('tfjs', backbone(null)).engine).toBe('tfjs');
  });

  it('falls back to tfjs under auto and says why; an explicit onnxruntime that cannot run is a user error', () => {
    delete process.env.BAYES_PEFT_FAST;
    expect(resolveEvalEngine('auto', backbone(undefined))).toEqual({ engine: 'tfjs', why: 'eval.engine auto: the backbone bb runs on TensorFlow.js only' });
    expect(resolveEvalEngine('auto', backbone('onnxruntime-node does not load here (x)')).why).toBe('eval.engine auto: onnxruntime-node does not load here (x)');
    expect(() => resolveEvalEngine('onnxruntime', backbone(undefined))).toThrow(UserError);
    expect(() => resolveEvalEngine('onnxruntime', backbone('the adapter on lm_head (X) has no ONNX export'))).toThrow(
      'eval.engine: onnxruntime cannot run: the adapter on lm_head (X) has no ONNX export (use eval.engine auto or tfjs)',
    );
  });

  it('BAYES_PEFT_EVAL_ENGINE=tfjs replaces auto (only); BAYES_PEFT_FAST=0 does not change the engine', () => {
    process.env.BAYES_PEFT_FAST = '0';
    expect(resolveEvalEngine('auto', backbone(null))).toEqual({ engine: 'onnxruntime', why: 'eval.engine auto' });
    process.env.BAYES_PEFT_EVAL_ENGINE = 'tfjs';
    expect(resolveEvalEngine('auto', backbone(null))).toEqual({ engine: 'tfjs', why: 'eval.engine auto: BAYES_PEFT_EVAL_ENGINE=tfjs' });
    expect(resolveEvalEngine('onnxruntime', backbone(null)).engine).toBe('onnxruntime');
    process.env.BAYES_PEFT_EVAL_ENGINE = 'onnx';
    expect(() => resolveEvalEngine('auto', backbone(null))).toThrow("BAYES_PEFT_EVAL_ENGINE='onnx' is not one of auto, tfjs");
  });

  it('takes the variable\'s values from eval.engine\'s', () => {
    expect(ENV.BAYES_PEFT_EVAL_ENGINE.values?.every((v) => (EVAL_ENGINES as readonly string[]).includes(v))).toBe(true);
  });
});

describe('selectEvalEngine', () => {
  it('sets the decision on the backbone, once', () => {
    delete process.env.BAYES_PEFT_EVAL_ENGINE;
    const used: EvalEngine[] = [];
    expect(selectEvalEngine('auto', backbone(null, used)).engine).toBe('onnxruntime');
    expect(selectEvalEngine('tfjs', backbone(null, used)).engine).toBe('tfjs');
    expect(used).toEqual(['onnxruntime', 'tfjs']);
  });
});
