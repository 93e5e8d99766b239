import * as os from 'node:os';
import { createRunSession, LoraConfigSchema, Rng, silentLogger, TOKENS, type LoraConfig, type Plugin, type RunContext, type Wrapper } from '@bayes-peft/core';

export interface WrapperSetup {
  /** The wrapper plugin under test (a package's default export, made by definePlugin). */
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
 * A fresh wrapper resolved exactly as packages/core's runner does it: core's `createRunSession`
 * (a child container holding the run context and the LoRA config, the plugin's own `register`
 * with its parsed options), then `resolve(TOKENS.Wrapper)`. So a plugin whose registration or injection is wrong fails here as
 * it would in `bayes-peft experiment`. `run` is the run context to inject (default: a fresh one
 * for `seed`); pass one to reach its Rng, as the runner does to checkpoint and resume.
 */
export function createWrapper(setup: WrapperSetup, seed: number, run: RunContext = makeRunContext(seed)): Wrapper {
  const { plugin } = setup;
  if (plugin.kind !== 'wrapper') throw new Error(`plugin '${plugin.name}' is a ${plugin.kind} plugin, not a wrapper`);
  const options = plugin.options.parse(setup.options ?? {});
  const { container } = createRunSession({ context: run, lora: conformanceLora(setup.lora), wrapper: { plugin, options } });
  return container.resolve(TOKENS.Wrapper);
}
