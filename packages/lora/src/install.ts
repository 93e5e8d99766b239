import type { Adapter, Backbone, LinearSite, LoraConfig, Rng } from '@bayes-peft/core';
import { LoraAdapter } from './lora-adapter';

/**
 * Puts a LoRA adapter on every site whose kind is a target. `wrap` lets a method install its
 * own adapter around the LoRA parameters (BLoB's sampler, MC dropout, ensembles). Returns the
 * LoRA parameters by site name, in site order.
 */
export function installLora<A extends Adapter = LoraAdapter>(
  backbone: Backbone,
  config: LoraConfig,
  rng: Rng,
  wrap?: (lora: LoraAdapter, site: LinearSite) => A,
  namePrefix = 'lora',
): Map<string, { lora: LoraAdapter; adapter: A }> {
  const out = new Map<string, { lora: LoraAdapter; adapter: A }>();
  const targets = new Set<string>(config.targets);
  const sites = backbone.sites().filter((s) => targets.has(s.kind));
  if (sites.length === 0) {
    throw new Error(`lora.targets [${config.targets.join(', ')}] match no site of ${backbone.id}`);
  }
  for (const site of sites) {
    const lora = new LoraAdapter(site, config, rng.child(site.name), namePrefix);
    const adapter = wrap ? wrap(lora, site) : (lora as unknown as A);
    site.adapter = adapter;
    out.set(site.name, { lora, adapter });
  }
  return out;
}

/**
 * Takes the given adapters off the backbone's sites, leaving any other adapter in place (the
 * caller still owns and disposes their variables): what a wrapper's dispose() does.
 */
export function removeAdapters(backbone: Backbone, adapters: Iterable<Adapter>): void {
  const mine = new Set<Adapter>(adapters);
  for (const site of backbone.sites()) if (site.adapter && mine.has(site.adapter)) site.adapter = null;
}

/** Removes every adapter from the backbone (the wrapper still owns and disposes the variables). */
export function uninstallAdapters(backbone: Backbone): void {
  for (const site of backbone.sites()) site.adapter = null;
}
