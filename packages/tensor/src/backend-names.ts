// The backend names alone, without TensorFlow.js: `@bayes-peft/tensor/backend-names` lets the
// run spec schema, the CLI and the bench parent process list them without loading an engine.

/**
 * The engines we know, best first. The two native ones bind libtensorflow through
 * @tensorflow/tfjs-node(-gpu) and register themselves under the tfjs name `tensorflow`.
 * (@bayes-peft/env declares BAYES_PEFT_BACKEND's values itself: env cannot depend on tensor,
 * which depends on it; backend.test.ts checks the two lists agree.)
 */
export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendRequest = 'auto' | BackendName;

/** What a spec, `--backend` or BAYES_PEFT_BACKEND may ask for: `auto`, then BACKENDS. */
export const BACKEND_REQUESTS = ['auto', ...BACKENDS] as const;
