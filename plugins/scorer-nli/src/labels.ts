import { NliModelError } from './errors';

/** Which logits mean what: read from config.json, since label orders differ between model families. */
export interface NliLabels {
  /** Every label, by index (config.json's id2label). */
  readonly names: readonly string[];
  readonly entailment: number;
  /** Null for a model without a contradiction class (a two-way entailment / not-entailment model). */
  readonly contradiction: number | null;
}

/**
 * The entailment and contradiction indices from config.json's `id2label` (else `label2id`),
 * matched case-insensitively: MoritzLaurer's DeBERTa-v3 models put entailment at 0, the
 * cross-encoder nli-deberta-v3 models at 1, microsoft/deberta-*-mnli and roberta-large-mnli at 2.
 * The reference hard-codes 0 (defect 20), which reads the contradiction probability of the latter.
 * A config without an entailment label is an error naming the labels it has.
 */
export function readLabels(config: Record<string, unknown>, where: string): NliLabels {
  const names = labelNames(config);
  if (names.length === 0) {
    throw new NliModelError(where, 'config.json has no id2label (or label2id): which logit is entailment is unknown; this is not a sequence-classification model config');
  }
  const find = (label: string) => {
    const i = names.findIndex((n) => n.trim().toLowerCase() === label);
    return i < 0 ? null : i;
  };
  const entailment = find('entailment');
  if (entailment === null) {
    throw new NliModelError(where, `config.json's labels are ${names.map((n, i) => `${i}: ${n}`).join(', ')}; none is 'entailment' (any case), so this is not an NLI model bayes-peft can read`);
  }
  return { names, entailment, contradiction: find('contradiction') };
}

/** Labels by index: id2label's keys are strings of integers ("0", "1", ...), label2id maps the other way. */
function labelNames(config: Record<string, unknown>): string[] {
  const byIndex = new Map<number, string>();
  const id2label = config.id2label;
  if (isRecord(id2label)) {
    for (const [k, v] of Object.entries(id2label)) if (/^\d+$/.test(k) && typeof v === 'string') byIndex.set(Number(k), v);
  }
  const label2id = config.label2id;
  if (byIndex.size === 0 && isRecord(label2id)) {
    for (const [k, v] of Object.entries(label2id)) if (Number.isInteger(v)) byIndex.set(v as number, k);
  }
  const n = byIndex.size === 0 ? 0 : Math.max(...byIndex.keys()) + 1;
  return Array.from({ length: n }, (_, i) => byIndex.get(i) ?? `(index ${i} unnamed)`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
