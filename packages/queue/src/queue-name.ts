import { UserError } from '@bayes-peft/core';

/** The queue `bayes-peft enqueue` and `bayes-peft worker` use unless told otherwise. */
export const DEFAULT_QUEUE = 'bayes-peft';

/** BullMQ keys are `bull:<queue>:...`: a ':' in the name would break them, so BullMQ refuses it. */
export function checkQueueName(name: string): string {
  if (!name || name.includes(':')) throw new UserError(`--queue: '${name}' is not a queue name (non-empty, without ':')`);
  return name;
}
