// Test helpers for bayes-peft plugin authors: a conformance suite for wrapper plugins, and the
// pieces it is made of (the tiny model, the run container, the fixed batch) for tests of your own.
export { describeWrapperConformance, type WrapperConformanceOptions } from './conformance';
export {
  checkAttachDispose,
  checkCalibrate,
  checkDeterminism,
  checkGenerate,
  checkOnnxEngine,
  checkPredict,
  checkResolves,
  checkResume,
  checkSaveLoad,
  checkTraining,
  ConformanceError,
  RESUME_AT,
  RESUME_STEPS,
  warmUp,
  type ConformanceTarget,
} from './checks';
export { createWrapper, conformanceLora, makeRunContext, type WrapperSetup } from './run-container';
export { loadTinyBackbone, tinyModelDir, useTestBackend } from './tiny-backbone';
export { CONFORMANCE_EXAMPLES, CONFORMANCE_LABELS, conformanceBatch, conformancePlan, conformancePrompts } from './batches';
