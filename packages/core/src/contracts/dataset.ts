/** One multiple-choice question, formatted: the model reads `prompt` and answers with a label token. */
export interface McqExample {
  readonly id: string;
  readonly prompt: string;
  /** Index into the dataset's `labels`. */
  readonly label: number;
}

/** One open-ended question: the model generates, a Judge compares with the references. */
export interface OpenExample {
  readonly id: string;
  readonly question: string;
  readonly prompt: string;
  /** references[0] is the primary answer; the rest are accepted aliases. */
  readonly references: readonly string[];
  /** Full training text (prompt followed by the answer), when the dataset supports training. */
  readonly trainText?: string;
  /** Known wrong answers (TruthfulQA's incorrect_answers), normalised like the references; for judges. */
  readonly incorrect?: readonly string[];
  /** The passage the question is about (SQuAD v2), for judges that show it (an LLM judge's `Context:` line). */
  readonly context?: string;
}

export type Example = McqExample | OpenExample;

/** Which of the dataset's splits a run uses for each role. */
export type SplitRole = 'train' | 'test' | 'anchor';

export interface DatasetLoadContext {
  /**
   * For chat-templated prompts: the model's chat template over one user message (with the
   * generation prompt) or a user message and the assistant's answer (a training text). Present
   * only when the tokenizer has a chat template. The text never starts with BOS when the
   * tokenizer adds BOS itself, so encoding it with special tokens gives one BOS
   * (`chatTemplateContext`).
   */
  readonly applyChatTemplate?: (user: string, assistant?: string) => string;
}

/** A benchmark: rows from the hub or local files, formatted into prompts. */
export interface McqDataset {
  readonly kind: 'mcq';
  readonly name: string;
  /** Label strings whose last sub-token is the class's target token (`A`..`E`, `True`/`False`). */
  readonly labels: readonly string[];
  /** Split name per role, after the dataset's own mapping (e.g. test -> `validation`). */
  load(role: SplitRole, ctx?: DatasetLoadContext): Promise<McqExample[]>;
}

export interface OpenDataset {
  readonly kind: 'open';
  readonly name: string;
  load(role: SplitRole, ctx?: DatasetLoadContext): Promise<OpenExample[]>;
}

export type Dataset = McqDataset | OpenDataset;
