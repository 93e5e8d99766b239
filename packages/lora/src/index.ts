export * from './lora-adapter';
export * from './install';
export * from './peft-format';
export * from './install-peft';
export * from './check-compatible';
export * from './lora-tensors';
export * from './point-lora-wrapper';
