import { z } from 'zod';

export interface OptionRow {
  /** Dotted key within the section, e.g. `compat.rhoSgdOnly`. */
  readonly key: string;
  readonly type: string;
  readonly default: string;
  readonly description: string;
}

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
};

/** Every option of a zod object schema, nested objects flattened, from its JSON Schema form. */
export function describeOptions(schema: z.ZodType): OptionRow[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows: OptionRow[] = [];
  walk(json, '', rows);
  return rows;
}

function walk(node: JsonSchema, prefix: string, rows: OptionRow[]): void {
  for (const [key, prop] of Object.entries(node.properties ?? {})) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (prop.type === 'object' && prop.properties && Object.keys(prop.properties).length > 0) {
      walk(prop, name, rows);
      continue;
    }
    rows.push({ key: name, type: typeOf(prop), default: prop.default === undefined ? '' : JSON.stringify(prop.default), description: prop.description ?? '' });
  }
}

function typeOf(p: JsonSchema): string {
  if (p.enum) return p.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (p.anyOf ?? p.oneOf) return (p.anyOf ?? p.oneOf)!.map(typeOf).join(' \\| ');
  if (p.type === 'array') {
    const item = p.items ? typeOf(p.items) : 'any';
    return item.includes(' ') ? `(${item})[]` : `${item}[]`;
  }
  const base = Array.isArray(p.type) ? p.type.join(' \\| ') : (p.type ?? 'any');
  const lo = p.minimum ?? p.exclusiveMinimum;
  const hi = p.maximum !== undefined && p.maximum < Number.MAX_SAFE_INTEGER ? p.maximum : p.exclusiveMaximum;
  const range = lo !== undefined || hi !== undefined ? ` ${p.exclusiveMinimum !== undefined ? '(' : '['}${lo ?? '-inf'}, ${hi ?? 'inf'}${hi === undefined || p.exclusiveMaximum !== undefined ? ')' : ']'}` : '';
  return base + range;
}

/** A Markdown table of options. */
export function optionsMarkdown(rows: readonly OptionRow[]): string {
  if (rows.length === 0) return '_no options_\n';
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return ['| option | type | default | meaning |', '|---|---|---|---|', ...rows.map((r) => `| \`${r.key}\` | ${r.type} | ${r.default ? `\`${esc(r.default)}\`` : ''} | ${esc(r.description)} |`)].join('\n') + '\n';
}
