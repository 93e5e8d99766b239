// swc compiles the TypeScript sources for jest. The wrapper uses no decorators (defineWrapper's
// create() builds it); the bayes-peft packages it imports come compiled, with their own.
module.exports = {
  // Node's environment with Node's own typed arrays: onnxruntime-node's results (the conformance
  // suite's onnxruntime check) are refused by a test realm's Float32Array.
  testEnvironment: '@bayes-peft/plugin-testkit/jest-environment',
  roots: ['<rootDir>/src'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript' },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  // The conformance suite writes a tiny model on its first run on a machine.
  testTimeout: 60000,
};
