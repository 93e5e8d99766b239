export * from './lora-adapter';
export * from './install';
export * from './peft-format';
export * from './install-peft';
export * from './check-compatible';
export * from './lora-tensors';
export * from './lora-wrapper';
// What a wrapper author needs, from one package: the plugin definition, the engine and the loss.
export { defineWrapper, classNll, type WrapperContext, type TrainingPlan, type EvalPhase, type McqBatch } from '@bayes-peft/core';
export { tf } from '@bayes-peft/tensor';
