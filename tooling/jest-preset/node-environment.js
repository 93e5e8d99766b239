// The testkit's environment (Node's typed arrays in the test realm), which plugin authors get
// from @bayes-peft/plugin-testkit/jest-environment; the workspace's tests use the same file.
module.exports = require('../plugin-testkit/jest-environment');
