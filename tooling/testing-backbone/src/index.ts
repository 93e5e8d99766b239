export * from './toy-backbone';
export * from './toy-tokenizer';
export * from './helpers';
