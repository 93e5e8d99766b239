/** Which engine runs an evaluation's forward passes (chosen once per run by the runner). */
export const EVAL_ENGINES = ['auto', 'tfjs', 'onnxruntime'] as const;
export type EvalEngineChoice = (typeof EVAL_ENGINES)[number];
export type EvalEngine = Exclude<EvalEngineChoice, 'auto'>;
