import { UserError } from '@bayes-peft/core';

/**
 * A model folder that cannot be used as it is: missing folder, file or weight, or a config
 * this backbone does not implement. The message names the path (and the tensor or field), so
 * the CLI can print it alone.
 */
export class ModelLoadError extends UserError {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'ModelLoadError';
  }
}
