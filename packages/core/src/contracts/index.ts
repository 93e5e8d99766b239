export * from './tokenizer';
export * from './backbone';
export * from './dataset';
export * from './wrapper';
export * from './evaluator';
export * from './engine';
// Named exports win over `export *`: evaluator.ts still declares an older Judge and JudgeItem, left to its owner to remove.
export type { Judge, JudgeItem, JudgeVerdict } from './judge';
