import type { Rng } from './rng';
import type { Logger } from './logger';

/** What every plugin may know about the run it serves. */
export interface RunContext {
  readonly seed: number;
  /** Root of the run's random streams; plugins take `rng.child('<their name>')`. */
  readonly rng: Rng;
  readonly log: Logger;
  /** Folder of the spec file, for resolving relative paths in plugin options. */
  readonly specDir: string;
  /** Hub access: offline mode and cache location. */
  readonly hub: HubChoices;
}

/**
 * The run spec's explicit hub choices. Anything left undefined falls back to the environment
 * (HF_HUB_OFFLINE, HF_ENDPOINT, HF_HOME, ...) inside @bayes-peft/hub, whose `HubOptions`
 * extend this and whose `resolveHubSettings` applies those defaults.
 */
export interface HubChoices {
  readonly offline?: boolean;
  readonly cacheDir?: string;
  readonly endpoint?: string;
  readonly token?: string;
}
