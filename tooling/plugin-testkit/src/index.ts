// Test helpers for bayes-peft plugin authors: a conformance suite for wrapper plugins, and the
// pieces it is made of (the tiny model, the run container, the fixed batch) for tests of your own.
export { describeWrapperConformance, type WrapperConformanceOptions } from './conformance';
export {
  checkAttachDispose,
  checkCalibrate,
  checkDeterminism,
  checkGenerate,
  checkGenerativeTraining,
  checkOnnxEngine,
  checkPredict,
  checkResolves,
  checkResume,
  checkSaveLoad,
  checkTraining,
  ConformanceError,
  GENERATIVE_STEPS,
  RESUME_AT,
  RESUME_STEPS,
  warmUp,
  type ConformanceTarget,
  type GenerativeCheckResult,
} from './checks';
export { createWrapper, conformanceLora, makeRunContext, type WrapperSetup } from './run-container';
export { loadTinyBackbone, tinyModelDir, useTestBackend } from './tiny-backbone';
export {
  CONFORMANCE_EXAMPLES,
  CONFORMANCE_LABELS,
  CONFORMANCE_OPEN_EXAMPLES,
  conformanceAnswerBatch,
  conformanceBatch,
  conformanceOpenPrompts,
  conformancePlan,
  conformancePrompts,
} from './batches';
