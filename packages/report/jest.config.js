module.exports = require('@bayes-peft/jest-preset')(__dirname);
