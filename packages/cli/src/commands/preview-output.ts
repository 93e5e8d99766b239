import type { Dataset, Example, McqDataset, McqExample, OpenExample } from '@bayes-peft/core';

/** What `--json` prints per example: an MCQ example with its label string, or an open example as is. */
export type PreviewExample = (McqExample & { readonly labelText: string }) | OpenExample;

export function previewExamples(dataset: Dataset, examples: readonly Example[]): PreviewExample[] {
  if (dataset.kind === 'open') return examples as OpenExample[];
  return (examples as McqExample[]).map((e) => ({ ...e, labelText: labelText(dataset, e.label) }));
}

/** `{"rows": N, "examples": [...]}` on one line. */
export function previewJson(rows: number, examples: readonly PreviewExample[]): string {
  return `${JSON.stringify({ rows, examples })}\n`;
}

const MAX_LISTED = 8;

/** A header with the row count, then each example: its id, label or references, and the prompt. */
export function previewText(dataset: Dataset, pluginName: string, role: string, rows: number, examples: readonly PreviewExample[]): string {
  const kind = dataset.kind === 'mcq' ? `multiple choice, labels ${(dataset as McqDataset).labels.map((l) => JSON.stringify(l)).join(' ')}` : 'open-ended';
  const what = dataset.name === pluginName ? kind : `${dataset.name}, ${kind}`;
  const out = [`${pluginName} (${what}), role ${role}: ${rows} rows`];
  examples.forEach((e, i) => {
    out.push('', `--- ${i + 1}/${examples.length}  id ${e.id}`, e.prompt);
    if ('label' in e) out.push(`--- label: ${e.labelText.trim()} (index ${e.label})`);
    else {
      out.push(`--- references: ${list(e.references)}`);
      if (e.incorrect?.length) out.push(`--- incorrect: ${list(e.incorrect)}`);
    }
  });
  return `${out.join('\n')}\n`;
}

function labelText(dataset: McqDataset, label: number): string {
  return dataset.labels[label] ?? `?${label}`;
}

function list(items: readonly string[]): string {
  const shown = items.slice(0, MAX_LISTED).map((s) => JSON.stringify(s));
  return items.length > MAX_LISTED ? `${shown.join(', ')}, ... (${items.length} in all)` : shown.join(', ');
}
