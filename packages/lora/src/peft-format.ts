import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tf, readSafetensors, writeFileAtomic, writeSafetensors, type HostTensor } from '@bayes-peft/tensor';
import { LoraConfigSchema, SITE_KINDS, UserError, type LoraConfig } from '@bayes-peft/core';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
/** Our own facts about an adapter (wrapper, options), kept out of PEFT's config so PEFT loads it untouched. */
export const BAYES_PEFT_META = 'bayes_peft.json';

/**
 * PEFT's state-dict key for a parameter of the adapter on `site`:
 * `base_model.model.<site>.lora_A.weight`. BLoB's rho is stored as `<site>.lora_A_rho`,
 * the key the Python reference writes after PEFT strips the adapter name.
 */
export function peftKey(siteName: string, param: 'lora_A' | 'lora_B' | 'lora_A_rho' | string): string {
  const suffix = param === 'lora_A' || param === 'lora_B' ? `${param}.weight` : param;
  return `base_model.model.${siteName}.${suffix}`;
}

/** An adapter folder that cannot be loaded; the message starts with the file at fault. */
export class PeftAdapterError extends UserError {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'PeftAdapterError';
  }
}

/** PEFT's config key for each LoraConfig field, to name the field the user can see in the file. */
const PEFT_FIELD: Record<string, string> = { r: 'r', alpha: 'lora_alpha', dropout: 'lora_dropout', targets: 'target_modules' };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface PeftAdapterFiles {
  readonly config: LoraConfig;
  readonly tensors: Map<string, HostTensor>;
  readonly meta: Record<string, unknown>;
  readonly dir: string;
}

export async function savePeftAdapter(
  dir: string,
  options: { config: LoraConfig; baseModel: string; tensors: Record<string, tf.Tensor>; meta?: Record<string, unknown> },
): Promise<void> {
  const peftConfig = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r: options.config.r,
    lora_alpha: options.config.alpha,
    lora_dropout: options.config.dropout,
    target_modules: [...options.config.targets],
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: false,
    init_lora_weights: true,
    inference_mode: true,
    base_model_name_or_path: options.baseModel,
  };
  const host: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [k, t] of Object.entries(options.tensors)) host[k] = { shape: t.shape, data: t.dataSync() as Float32Array };
  await writeSafetensors(path.join(dir, ADAPTER_WEIGHTS), host, { format: 'pt' });
  await writeFileAtomic(path.join(dir, ADAPTER_CONFIG), `${JSON.stringify(peftConfig, null, 2)}\n`);
  await writeFileAtomic(path.join(dir, BAYES_PEFT_META), `${JSON.stringify(options.meta ?? {}, null, 2)}\n`);
}

/**
 * Reads a PEFT adapter folder. Every problem with its files is a PeftAdapterError naming the
 * config or meta file (or a SafetensorsError naming the weights file and tensor).
 */
export async function loadPeftAdapter(dir: string): Promise<PeftAdapterFiles> {
  const cfgFile = path.join(dir, ADAPTER_CONFIG);
  let cfgText: string;
  try {
    cfgText = await fs.readFile(cfgFile, 'utf8');
  } catch (e) {
    throw new PeftAdapterError(cfgFile, `cannot read the adapter config (${(e as Error).message})`);
  }
  const config = parsePeftConfig(cfgText, cfgFile);
  const { tensors } = await readSafetensors(path.join(dir, ADAPTER_WEIGHTS));
  const metaFile = path.join(dir, BAYES_PEFT_META);
  let metaText: string | null = null;
  try {
    metaText = await fs.readFile(metaFile, 'utf8');
  } catch {
    // Adapters trained elsewhere (Python PEFT) carry no bayes_peft.json.
  }
  return { config, tensors, meta: parsePeftMeta(metaText, metaFile), dir };
}

/** adapter_config.json's text (PEFT's keys) as our LoraConfig; a PeftAdapterError names `file` and the field. */
export function parsePeftConfig(text: string, file: string): LoraConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new PeftAdapterError(file, `cannot read the adapter config (${(e as Error).message})`);
  }
  if (!isObject(raw)) throw new PeftAdapterError(file, `expected a JSON object, got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}`);
  if (raw.peft_type !== undefined && raw.peft_type !== 'LORA') throw new PeftAdapterError(file, `peft_type ${String(raw.peft_type)} is not LORA`);
  if (raw.use_rslora) throw new PeftAdapterError(file, 'use_rslora adapters are not supported');
  const targets: unknown[] = Array.isArray(raw.target_modules) ? raw.target_modules : [];
  const bad = targets.findIndex((t) => typeof t !== 'string');
  if (bad >= 0) throw new PeftAdapterError(file, `target_modules[${bad}]: expected a module name, got ${JSON.stringify(targets[bad])}`);
  const kinds = (targets as string[]).map((t) => t.split('.').pop()!).filter((t) => (SITE_KINDS as readonly string[]).includes(t));
  const parsed = LoraConfigSchema.safeParse({ r: raw.r, alpha: raw.lora_alpha, dropout: raw.lora_dropout ?? 0, targets: kinds });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0] ?? '');
    const field = PEFT_FIELD[key] ?? key;
    const got = JSON.stringify(key === 'targets' ? raw.target_modules : raw[field]) ?? 'nothing';
    throw new PeftAdapterError(file, `${field}: ${issue.message}; got ${got.length > 80 ? `${got.slice(0, 80)}...` : got}`);
  }
  return parsed.data;
}

/** bayes_peft.json's text (null when the file is absent) as an object; a PeftAdapterError names `file`. */
export function parsePeftMeta(text: string | null, file: string): Record<string, unknown> {
  if (text === null) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PeftAdapterError(file, `invalid JSON (${(e as Error).message})`);
  }
  if (!isObject(value)) throw new PeftAdapterError(file, 'expected a JSON object');
  return value;
}

/** Looks up one parameter's tensor in loaded adapter files; PEFT's doubled prefix is accepted too. */
export function takeTensor(files: PeftAdapterFiles, siteName: string, param: string, shape: readonly number[]): HostTensor {
  const key = peftKey(siteName, param);
  const t = files.tensors.get(key) ?? files.tensors.get(key.replace('base_model.model.', 'base_model.model.base_model.model.'));
  if (!t) throw new Error(`${path.join(files.dir, ADAPTER_WEIGHTS)}: tensor '${key}' is missing`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${path.join(files.dir, ADAPTER_WEIGHTS)}: tensor '${key}' has shape [${t.shape}], the model needs [${shape}]`);
  }
  return t;
}
