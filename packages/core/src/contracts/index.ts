export * from './tokenizer';
export * from './backbone';
export * from './dataset';
export * from './wrapper';
export * from './evaluator';
export * from './engine';
export * from './sampling';
export * from './judge';
