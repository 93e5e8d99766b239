// The toy task: "which box does this object go in?". Every object belongs to one of four coloured
// boxes (its colour: a tomato goes in the red box); the question names the object among a few
// distracting adjectives, the choices list the four boxes, and the answer is the letter of the
// object's box. A model has to learn 24 object -> box associations and find the object among the
// distractors. A seeded fraction of the rows (labelNoise, default 10%) carries a uniformly drawn
// wrong label in every split, so the best achievable accuracy is about 1 - labelNoise and a
// calibrated model is about that confident: overconfident fine-tuning shows up in ECE and NLL.
import { Rng } from '@bayes-peft/core';

export const TOY_LABELS = ['A', 'B', 'C', 'D'] as const;

export const TOY_BOXES = ['red', 'blue', 'green', 'yellow'] as const;

/** Six objects per box, in TOY_BOXES order. */
export const TOY_OBJECTS: Readonly<Record<(typeof TOY_BOXES)[number], readonly string[]>> = {
  red: ['apple', 'cherry', 'tomato', 'rose', 'brick', 'ruby'],
  blue: ['ocean', 'sky', 'jeans', 'sapphire', 'whale', 'river'],
  green: ['leaf', 'frog', 'lime', 'grass', 'cactus', 'emerald'],
  yellow: ['banana', 'lemon', 'sun', 'corn', 'cheese', 'canary'],
};

export const TOY_ADJECTIVES = ['small', 'big', 'old', 'new', 'shiny', 'heavy', 'light', 'round', 'soft', 'wet', 'dry', 'cold'] as const;

/** Question templates; `{obj}` is the object with 0-2 adjectives before it. */
export const TOY_QUESTIONS = [
  'Which box holds the {obj}?',
  'Where should the {obj} go?',
  'The {obj} belongs in which box?',
  'Which box gets the {obj}?',
] as const;

/** The same instruction as the reference's ARC/MMLU prompts (docs/methods.md, 'Multiple-choice prompts and targets'), choices `A) text`. */
export const TOY_TEMPLATE = 'Return the label of the correct answer for the question below.\n\nQuestion: {question}\nChoices:\n{choices}\nAnswer:';

export interface ToyGenerateOptions {
  /** Dataset seed, independent of the run seed: every run sees the same rows. */
  readonly seed: number;
  /** Fraction of rows whose label is replaced by a uniformly drawn wrong one. */
  readonly labelNoise: number;
  /** Shuffle the four boxes in each question's choices (a harder, two-step task). */
  readonly shuffleChoices: boolean;
  /** Most adjectives placed before the object (0-3). */
  readonly maxAdjectives: number;
}

export interface ToyRow {
  readonly id: string;
  readonly prompt: string;
  /** The label the row carries (after noise); index into TOY_LABELS. */
  readonly label: number;
  /** The label the rule gives (before noise). */
  readonly cleanLabel: number;
  readonly object: string;
  readonly box: (typeof TOY_BOXES)[number];
}

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)];

/** `count` rows of one split; each split name draws from its own seeded stream. */
export function generateToyRows(split: string, count: number, options: ToyGenerateOptions): ToyRow[] {
  const rng = new Rng(options.seed).child(`toy/${split}`);
  const rows: ToyRow[] = [];
  for (let i = 0; i < count; i++) {
    const boxIndex = rng.int(TOY_BOXES.length);
    const box = TOY_BOXES[boxIndex];
    const object = pick(rng, TOY_OBJECTS[box]);
    const nAdj = rng.int(options.maxAdjectives + 1);
    const adjectives = rng.shuffle(TOY_ADJECTIVES).slice(0, nAdj);
    const question = pick(rng, TOY_QUESTIONS).replace('{obj}', [...adjectives, object].join(' '));
    const order = options.shuffleChoices ? rng.shuffle([0, 1, 2, 3]) : [0, 1, 2, 3];
    const choices = order.map((b, k) => `${TOY_LABELS[k]}) ${TOY_BOXES[b]} box`).join('\n');
    const cleanLabel = order.indexOf(boxIndex);
    let label = cleanLabel;
    // Always draw, so the noise decision never shifts the stream of later rows.
    const flip = rng.next() < options.labelNoise;
    const other = (cleanLabel + 1 + rng.int(TOY_LABELS.length - 1)) % TOY_LABELS.length;
    if (flip) label = other;
    const prompt = TOY_TEMPLATE.replace('{question}', question).replace('{choices}', choices);
    rows.push({ id: `toy-${split}-${i}`, prompt, label, cleanLabel, object, box });
  }
  return rows;
}

/**
 * Every word and punctuation mark a toy prompt can contain (plus the label letters), for
 * tokenizers built to cover the task (`@bayes-peft/fixtures`).
 */
export function toyVocabulary(): string[] {
  const texts = [
    TOY_TEMPLATE,
    ...TOY_QUESTIONS,
    ...TOY_BOXES.map((b) => `${b} box`),
    ...Object.values(TOY_OBJECTS).flat(),
    ...TOY_ADJECTIVES,
    ...TOY_LABELS.map((l) => `${l})`),
  ];
  const words = new Set<string>();
  for (const t of texts) for (const w of t.replace(/\{(question|choices|obj)\}/g, ' ').match(/[A-Za-z]+|[^\sA-Za-z]/g) ?? []) words.add(w);
  return [...words].sort();
}
