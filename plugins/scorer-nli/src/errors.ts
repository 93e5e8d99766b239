import { UserError } from '@bayes-peft/core';

/**
 * An NLI model that cannot be used as it is: no ONNX graph, no tokenizer.json, a config without an
 * entailment label. The message names the folder (or hub id) and what to do, so the CLI can print
 * it alone.
 */
export class NliModelError extends UserError {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`NLI model ${where}: ${message}`);
    this.name = 'NliModelError';
  }
}
