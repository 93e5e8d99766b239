export * from './classification';
export * from './combine';
export * from './generative';
export * from './question-scores';
export * from './ranking';
