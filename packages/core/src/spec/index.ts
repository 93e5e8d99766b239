export * from './lora';
export * from './schema';
export * from './matrix';
export * from './load';
export * from './describe-options';
