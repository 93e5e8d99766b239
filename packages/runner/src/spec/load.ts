import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { SpecError, UserError, type SpecIssue } from '@bayes-peft/core';
import { expandMatrix, type MatrixAssignment } from './matrix';
import { RunSpecSchema, type RunSpec } from './schema';

/** One run of a (possibly matrix) spec, validated. */
export interface ResolvedRun {
  readonly spec: RunSpec;
  /** The matrix values that produced this run ({} without a matrix). */
  readonly assignment: MatrixAssignment;
  /** The raw (pre-default) spec object of this run. */
  readonly raw: Record<string, unknown>;
}

export interface LoadedSpec {
  readonly file: string;
  readonly dir: string;
  readonly runs: readonly ResolvedRun[];
  /** Locates a YAML path in the file, for plugin option errors found later. */
  lineOf(yamlPath: (string | number)[]): number | undefined;
}

export async function loadSpecFile(file: string): Promise<LoadedSpec> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read run spec ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseSpec(text, file);
}

export function parseSpec(text: string, file = '<spec>'): LoadedSpec {
  const tooDeep = nestingProblem(text);
  if (tooDeep) throw new SpecError(file, [{ path: '', line: tooDeep.line, message: tooDeep.message }]);
  const lineCounter = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: true });
  } catch (e) {
    // Nesting deep enough to exhaust the stack.
    throw new SpecError(file, [{ path: '', message: `YAML syntax: ${firstLine(e)}` }]);
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new SpecError(file, [{ path: '', line: e.linePos?.[0]?.line, message: `YAML syntax: ${e.message.split('\n')[0]}` }]);
  }
  let raw: unknown;
  try {
    // yaml throws for an alias before its anchor, and for alias bombs (more than maxAliasCount expansions).
    raw = doc.toJS();
  } catch (e) {
    throw new SpecError(file, [{ path: '', message: `YAML: ${firstLine(e)}` }]);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SpecError(file, [{ path: '', message: 'expected a mapping (model:, dataset:, wrapper:, ...)' }]);
  }
  const lineOf = (p: (string | number)[]) => lineOfPath(doc, lineCounter, p);
  const { matrix, ...base } = raw as Record<string, unknown>;
  const expansions = expandMatrix(base, matrix, (issues) => new SpecError(file, issues.map((i) => ({ ...i, line: lineOf(i.segments) }))));
  const runs: ResolvedRun[] = [];
  for (const { assignment, value } of expansions) {
    const normalised = normaliseShorthands(value);
    const parsed = RunSpecSchema.safeParse(normalised);
    if (!parsed.success) {
      const where = Object.keys(assignment).length ? ` (matrix run ${describeAssignment(assignment)})` : '';
      throw new SpecError(
        file + where,
        parsed.error.issues.map((issue) => toSpecIssue(issue, normalised, lineOf)),
      );
    }
    runs.push({ spec: parsed.data, assignment, raw: normalised });
  }
  return { file, dir: path.dirname(path.resolve(file)), runs, lineOf };
}

/** Run specs nest a few levels; past these the YAML library recurses until the stack overflows, slowly. */
const MAX_FLOW_DEPTH = 256;
const MAX_INDENT = 512;

/**
 * A cheap scan run before parsing: `[`/`{` nested past MAX_FLOW_DEPTH (counted everywhere, strings
 * included, so nothing hides them) or a line indented past MAX_INDENT columns.
 */
function nestingProblem(text: string): { line: number; message: string } | null {
  let depth = 0;
  let line = 1;
  let indent = 0;
  let atLineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      indent = 0;
      atLineStart = true;
      continue;
    }
    if (atLineStart) {
      if (c === 32) {
        if (++indent > MAX_INDENT) return { line, message: `YAML nested too deep: indented more than ${MAX_INDENT} columns` };
        continue;
      }
      atLineStart = false;
    }
    if (c === 91 || c === 123) {
      if (++depth > MAX_FLOW_DEPTH) return { line, message: `YAML nested too deep: more than ${MAX_FLOW_DEPTH} levels of [ or {` };
    } else if ((c === 93 || c === 125) && depth > 0) {
      depth--;
    }
  }
  return null;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

export function describeAssignment(a: MatrixAssignment): string {
  return Object.entries(a)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

/** `model: { path: ... }` (no `plugin:`) means the causal-LM backbone with those options. */
function normaliseShorthands(spec: Record<string, unknown>): Record<string, unknown> {
  const out = { ...spec };
  const model = out.model;
  if (model && typeof model === 'object' && !Array.isArray(model) && !('plugin' in model)) {
    out.model = { plugin: 'causal-lm', options: model };
  }
  return out;
}

export function toSpecIssue(issue: z.core.$ZodIssue, root: unknown, lineOf: (p: (string | number)[]) => number | undefined, prefix: (string | number)[] = []): SpecIssue {
  const segments = [...prefix, ...(issue.path as (string | number)[])];
  let message = issue.message;
  const value = valueAt(root, issue.path as (string | number)[]);
  if (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'too_small' || issue.code === 'too_big' || issue.code === 'invalid_format') {
    message = `${message.replace(/^Invalid (input|option): /, '').replace(/, received \w+$/, '')}; got ${value === undefined ? 'nothing' : JSON.stringify(value)}`;
  } else if (issue.code === 'unrecognized_keys') {
    message = `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  } else if (issue.code === 'invalid_union' && 'discriminator' in issue && issue.discriminator) {
    // A discriminated union's key (a plugin's `backend: local | openai`) names no variant: its own message.
    message = `${issue.message}; got ${value === undefined ? 'nothing' : JSON.stringify(value)}`;
  } else if (issue.code === 'invalid_union') {
    message = `expected a plugin name or { plugin, options }; got ${JSON.stringify(value)}`;
  }
  const at = issue.code === 'unrecognized_keys' ? [...segments, issue.keys[0]] : segments;
  return { path: formatPath(segments), message, line: lineOf(at) ?? lineOf(segments) ?? lineOf(segments.slice(0, -1)) };
}

export function formatPath(segments: readonly (string | number | symbol)[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out ? `.${String(s)}` : String(s);
  return out;
}

function valueAt(root: unknown, segments: readonly (string | number)[]): unknown {
  let v: unknown = root;
  for (const s of segments) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[s];
  }
  return v;
}

function lineOfPath(doc: Document, counter: LineCounter, segments: (string | number)[]): number | undefined {
  let node: unknown = doc.contents;
  let keyNode: unknown = null;
  for (const seg of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
      if (!pair) return undefined;
      keyNode = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      keyNode = node;
    } else {
      return undefined;
    }
  }
  const target = (node as Node | null)?.range ? node : keyNode;
  const offset = (target as Node | null)?.range?.[0];
  return offset === undefined ? undefined : counter.linePos(offset).line;
}
