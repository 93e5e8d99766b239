// swc compiles the TypeScript sources for jest, keeping the decorator metadata that tsyringe's
// constructor injection reads.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  // The conformance suite writes a tiny model on its first run on a machine.
  testTimeout: 60000,
};
