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
  const variants = node.properties ? undefined : (node.anyOf ?? node.oneOf);
  if (variants?.length && variants.every((v) => v.properties)) {
    walkVariants(variants, prefix, rows);
    return;
  }
  for (const [key, prop] of Object.entries(node.properties ?? {})) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (prop.type === 'object' && prop.properties && Object.keys(prop.properties).length > 0) {
      walk(prop, name, rows);
      continue;
    }
    rows.push({ key: name, type: typeOf(prop), default: prop.default === undefined ? '' : JSON.stringify(prop.default), description: prop.description ?? '' });
  }
}

/**
 * A union of objects (a zod discriminated union such as `backend: local | openai`): the
 * discriminator (a key every variant pins with a const) is one row listing its values; an option
 * every variant has alike is one row; any other is one row per variant that has it, its meaning
 * prefixed with the variants it belongs to (`(backend: openai) ...`).
 */
function walkVariants(variants: readonly JsonSchema[], prefix: string, rows: OptionRow[]): void {
  const discriminator = Object.keys(variants[0].properties!).find((k) => variants.every((v) => v.properties![k]?.const !== undefined));
  const label = (v: JsonSchema, i: number) => (discriminator ? `${discriminator}: ${String(v.properties![discriminator].const)}` : `variant ${i + 1}`);
  const perVariant = variants.map((v) => {
    const own: OptionRow[] = [];
    walk(v, prefix, own);
    return own;
  });
  const keys = [...new Set(perVariant.flat().map((r) => r.key))];
  for (const key of keys) {
    const found = perVariant.map((own, i) => ({ row: own.find((r) => r.key === key), label: label(variants[i], i) })).filter((f) => f.row !== undefined) as { row: OptionRow; label: string }[];
    const description = found.map((f) => f.row.description).find((d) => d) ?? '';
    if (discriminator && key === (prefix ? `${prefix}.${discriminator}` : discriminator)) {
      rows.push({ key, type: variants.map((v) => JSON.stringify(v.properties![discriminator].const)).join(' \\| '), default: '', description });
      continue;
    }
    const alike = found.every((f) => f.row.type === found[0].row.type && f.row.default === found[0].row.default);
    if (found.length === variants.length && alike) {
      rows.push({ ...found[0].row, description });
      continue;
    }
    // Variants that agree on the row share it.
    const groups = new Map<string, { row: OptionRow; labels: string[] }>();
    for (const f of found) {
      const id = JSON.stringify([f.row.type, f.row.default, f.row.description]);
      const g = groups.get(id);
      if (g) g.labels.push(f.label);
      else groups.set(id, { row: f.row, labels: [f.label] });
    }
    for (const { row, labels } of groups.values()) rows.push({ ...row, description: `(${labels.join(', ')}) ${row.description}`.trim() });
  }
}

function typeOf(p: JsonSchema): string {
  if (p.const !== undefined) return JSON.stringify(p.const);
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
