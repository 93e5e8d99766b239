import { UserError } from '@bayes-peft/core';

/** A `--options '<json>'` flag's value: a JSON object, or a UserError quoting the text. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UserError(`--options: not JSON (${(e as Error).message}): ${text}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new UserError(`--options: expected a JSON object, got ${text}`);
  return value as Record<string, unknown>;
}
