import * as os from 'node:os';
import { LoraConfigSchema, Rng, silentLogger, type LoraConfig, type Plugin, type RunContext, type Wrapper } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';

export interface WrapperSetup {
  /** The wrapper plugin under test (a package's default export, made by defineWrapper). */
  readonly plugin: Plugin;
  /** The spec's `wrapper.options`; validated and defaulted by the plugin's own schema. */
  readonly options?: Record<string, unknown>;
  /** Overrides of the spec's `lora:` section (default here: r 4, alpha 8, q_proj, v_proj, lm_head). */
  readonly lora?: Partial<LoraConfig>;
}

/** The LoRA section a conformance run uses: small rank, the paper's targets, unless overridden. */
export function conformanceLora(overrides: Partial<LoraConfig> = {}): LoraConfig {
  return LoraConfigSchema.parse({ r: 4, alpha: 8, ...overrides });
}

/** A RunContext as the runner makes one: seeded RNG, a silent log, offline hub. */
export function makeRunContext(seed: number): RunContext {
  return { seed, rng: new Rng(seed), log: silentLogger, specDir: os.tmpdir(), hub: { offline: true } };
}

/**
 * A fresh wrapper made exactly as the runner makes it: @bayes-peft/runner's `createRunSession`
 * (the run context, the LoRA config, the plugin's `create` with its parsed options), then
 * `session.wrapper()`. So a plugin whose `create` is wrong fails here as it would in
 * `bayes-peft experiment`. `run` is the run context to inject (default: a fresh one
 * for `seed`); pass one to reach its Rng, as the runner does to checkpoint and resume.
 */
export function createWrapper(setup: WrapperSetup, seed: number, run: RunContext = makeRunContext(seed)): Wrapper {
  const { plugin } = setup;
  if (plugin.kind !== 'wrapper') throw new Error(`plugin '${plugin.name}' is a ${plugin.kind} plugin, not a wrapper`);
  const options = plugin.options.parse(setup.options ?? {});
  return createRunSession({ context: run, lora: conformanceLora(setup.lora), wrapper: { plugin, options } }).wrapper();
}
