/** Errors a user can act on: the CLI prints `message` alone (no stack) and exits non-zero. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** A bad value in a run spec, located by its YAML path and, when known, its line. */
export class SpecError extends UserError {
  constructor(
    readonly file: string,
    readonly issues: readonly SpecIssue[],
  ) {
    super(
      `${file}: invalid run spec\n` +
        issues.map((i) => `  ${i.line ? `line ${i.line}: ` : ''}${i.path || '(root)'}: ${i.message}`).join('\n'),
    );
    this.name = 'SpecError';
  }
}

export interface SpecIssue {
  /** Dotted YAML path, e.g. `wrapper.options.beta` or `lora.targets[2]`. */
  readonly path: string;
  readonly message: string;
  readonly line?: number;
}

/** A training step produced a NaN or infinite loss. */
export class NonFiniteLossError extends UserError {
  /** `step` counts from 1; `detail` says what state the parameters were left in. */
  constructor(readonly step: number, readonly values: Record<string, number>, detail?: string) {
    super(
      `non-finite loss at step ${step} (${Object.entries(values)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')})${detail ? `; ${detail}` : ''}; stopped, the last good checkpoint is kept`,
    );
    this.name = 'NonFiniteLossError';
  }
}

/** The user stopped a run; its last checkpoint lets the same command resume it. */
export class RunInterruptedError extends UserError {
  constructor(readonly step: number, readonly totalSteps: number) {
    super(`interrupted after step ${step} of ${totalSteps}; a checkpoint was saved: run the same command again to resume`);
    this.name = 'RunInterruptedError';
  }
}
