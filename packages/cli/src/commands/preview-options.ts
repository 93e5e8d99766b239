import { UserError, type Plugin, type SplitRole } from '@bayes-peft/core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const ROLES: readonly SplitRole[] = ['train', 'test', 'anchor'];

/**
 * Option keys a dataset plugin may use for its hub config / subset, in order of preference:
 * arc `subset`, mmlu `group` (its `config` is the hub config the groups filter), winogrande
 * `size`, openbookqa / triviaqa `config`.
 */
export const CONFIG_OPTION_KEYS = ['subset', 'group', 'size', 'config'] as const;

export interface PreviewFlags {
  readonly config?: string;
  readonly split?: string;
  readonly role?: SplitRole;
  readonly source?: string;
  /** `key=value` pairs (dotted keys for nested options; values read as YAML scalars). */
  readonly option?: readonly string[];
}

export interface PreviewPlan {
  /** Raw `options:` for the plugin, before its schema fills in defaults. */
  readonly options: Record<string, unknown>;
  readonly role: SplitRole;
}

/** Top-level option keys of a plugin's schema, with whether each is an object. */
export function optionKeys(plugin: Plugin): Map<string, { object: boolean }> {
  const json = z.toJSONSchema(plugin.options, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, { type?: unknown }> };
  return new Map(Object.entries(json.properties ?? {}).map(([k, v]) => [k, { object: v.type === 'object' }]));
}

/**
 * The plugin options and role a `dataset preview` call means, for any dataset plugin:
 * `--option` pairs first, then `--source` -> `source`, `--config` -> the first of
 * CONFIG_OPTION_KEYS the plugin has, `--split` -> the split name of the role when the plugin
 * maps roles to splits (`splits`), else a role name, else the plugin's single `split`.
 */
export function planPreview(plugin: Plugin, flags: PreviewFlags): PreviewPlan {
  const keys = optionKeys(plugin);
  const options: Record<string, unknown> = {};
  for (const pair of flags.option ?? []) setOption(options, pair);
  if (flags.source !== undefined) {
    if (!keys.has('source')) throw new UserError(`dataset plugin '${plugin.name}' has no 'source' option, so --source does not apply (its options: ${[...keys.keys()].join(', ') || 'none'})`);
    options.source = flags.source;
  }
  if (flags.config !== undefined) {
    const key = CONFIG_OPTION_KEYS.find((k) => keys.has(k));
    if (!key) {
      throw new UserError(
        `dataset plugin '${plugin.name}' has no config option (none of ${CONFIG_OPTION_KEYS.join(', ')}), so --config does not apply; its options: ${[...keys.keys()].join(', ') || 'none'} (set any with --option <key>=<value>)`,
      );
    }
    options[key] = flags.config;
  }
  let role: SplitRole = flags.role ?? 'test';
  if (flags.split !== undefined) {
    if (keys.get('splits')?.object) {
      options.splits = { ...(isRecord(options.splits) ? options.splits : {}), [role]: flags.split };
    } else if ((ROLES as readonly string[]).includes(flags.split) && flags.role === undefined) {
      role = flags.split as SplitRole;
    } else if (keys.has('split')) {
      options.split = flags.split;
    } else {
      throw new UserError(`dataset plugin '${plugin.name}' does not map roles to split names: --split takes a role (${ROLES.join(', ')}), got '${flags.split}'`);
    }
  }
  return { options, role };
}

/** The plugin's options after its schema: defaults filled in, or every problem in one message. */
export function parsePluginOptions(plugin: Plugin, options: Record<string, unknown>): unknown {
  const parsed = plugin.options.safeParse(options);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const at = [...i.path, ...(i.code === 'unrecognized_keys' ? [i.keys.join(', ')] : [])].join('.');
    return `${at ? `${at}: ` : ''}${i.message}`;
  });
  throw new UserError(`invalid options for ${plugin.kind} plugin '${plugin.name}' ${JSON.stringify(options)}: ${problems.join('; ')}`);
}

function setOption(target: Record<string, unknown>, pair: string): void {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new UserError(`--option takes key=value, got '${pair}'`);
  const path = pair.slice(0, eq).split('.');
  let value: unknown;
  try {
    value = parseYaml(pair.slice(eq + 1));
  } catch {
    value = pair.slice(eq + 1);
  }
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isRecord(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value ?? '';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
