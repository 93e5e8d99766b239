import type { LoraConfig } from '@bayes-peft/core';

/**
 * A saved adapter must have the rank, alpha and targets this run's LoRA was installed with;
 * throws one message listing every mismatch. (Dropout is a training setting, not a shape, so it
 * is not compared.)
 */
export function checkAdapterCompatible(saved: LoraConfig, current: LoraConfig, dir: string): void {
  const problems: string[] = [];
  if (saved.r !== current.r) problems.push(`r ${saved.r} (run: ${current.r})`);
  if (saved.alpha !== current.alpha) problems.push(`alpha ${saved.alpha} (run: ${current.alpha})`);
  const a = [...saved.targets].sort().join(',');
  const b = [...current.targets].sort().join(',');
  if (a !== b) problems.push(`targets [${a}] (run: [${b}])`);
  if (problems.length) throw new Error(`${dir}: the adapter does not match the run's lora section: ${problems.join('; ')}`);
}
