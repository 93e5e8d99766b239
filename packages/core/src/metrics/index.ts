export * from './classification';
export * from './combine';
export * from './flip-ratio';
export * from './generative';
export * from './question-scores';
export * from './ranking';
export * from './semantic';
