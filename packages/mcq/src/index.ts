// Building blocks of multiple-choice dataset plugins: prompt templates, choice lines, answer
// fields, the shared option schema (sources, splits, subsets, addSpace), split loading, and a
// plugin factory over them.
export * from './template';
export * from './labels';
export * from './choices';
export * from './answers';
export * from './options';
export * from './definition';
export * from './load';
export * from './dataset';
export * from './plugin';
export * from './instantiate';
export * from './local-context';
