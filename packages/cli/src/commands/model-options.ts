import { Command, Option } from 'commander';
import { consoleLogger, UserError, type Backbone } from '@bayes-peft/core';
import { BACKEND_REQUESTS, initBackend } from '@bayes-peft/tensor';
import { loadCausalLm } from '@bayes-peft/backbone-causal-lm';
import { installPeftAdapter } from '@bayes-peft/lora';

export interface ModelOptions {
  model: string;
  adapter?: string;
  backend: string;
  offline?: boolean;
}

export function withModelOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--model <dir|hub id>', 'Hugging Face model folder or hub id')
    .option('--adapter <dir>', 'PEFT LoRA adapter folder to apply')
    .addOption(new Option('--backend <name>', 'tensor backend').choices(BACKEND_REQUESTS).default('auto'))
    .option('--offline', 'use only the local hub cache');
}

/** Backend, backbone and (optionally) adapter, as a run would set them up. */
export async function openModel(opts: ModelOptions): Promise<Backbone> {
  await initBackend(opts.backend as 'auto', consoleLogger);
  const backbone = await loadCausalLm(opts.model, { hub: opts.offline ? { offline: true } : {}, log: consoleLogger });
  if (opts.adapter) await installPeftAdapter(backbone, opts.adapter);
  return backbone;
}

export function parsePositiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UserError(`${name} must be a non-negative integer, got '${v}'`);
    return n;
  };
}
