/** One generated answer to score: the question it answers and the answers accepted for it. */
export interface JudgeItem {
  /** The question's example id, so verdicts and logs can be traced back to predictions.jsonl. */
  readonly id: string;
  /** Judges that read the question (an LLM judge) get it; string matching ignores it. */
  readonly question: string;
  /** Accepted answers (references[0] the primary, then aliases); the candidate is right when it matches any. */
  readonly references: readonly string[];
  /** The generated answer, as decoded. */
  readonly candidate: string;
  /**
   * The passage a reading-comprehension question is about, for judges that show it (the LLM
   * judge's `Context:` line); absent for closed-book questions. The runner does not fill it yet.
   */
  readonly context?: string;
}

export interface JudgeVerdict {
  readonly correct: boolean;
  /**
   * The judge's probability, in [0, 1], that the candidate is correct. A judge without a
   * probability of its own (string matching) gives 1 when `correct` and 0 otherwise, so this is
   * always defined and consistent with `correct`; a probabilistic judge (NLI, an LLM judge reading
   * its token probabilities) gives its own.
   */
  readonly confidence: number;
  /** Why, for logs and predictions.jsonl: the reference that matched, an NLI score, the judge's reply. */
  readonly detail?: string;
}

/** Does `premise` entail `hypothesis`? One direction of a comparison between two answers. */
export interface EntailmentPair {
  readonly premise: string;
  readonly hypothesis: string;
  /** The question both answer; a judge may condition on it (the semantic-entropy code prepends it). */
  readonly question?: string;
}

/** A comparer's class probabilities for one pair (each in [0, 1]). */
export interface EntailmentScores {
  readonly entailment: number;
  readonly contradiction: number;
}

/**
 * Scores candidate answers against references for open-ended QA: string match, an NLI model, an
 * LLM judge. Batched and asynchronous so a model-backed judge can run many items per forward;
 * `judge` returns one verdict per item, in the items' order. A judge is made once per run, so a
 * model it needs is loaded once (the reference reloads it on every evaluation call).
 */
export interface Judge {
  /** Short name for logs and results.json (`string-match`). */
  readonly name: string;
  judge(items: readonly JudgeItem[]): Promise<JudgeVerdict[]>;
  /**
   * Optional: the entailment and contradiction probabilities of each pair, in order, for
   * clustering sampled answers by meaning (semantic uncertainty). An NLI judge has it; string
   * matching does not.
   */
  entailment?(pairs: readonly EntailmentPair[]): Promise<EntailmentScores[]>;
  /** Frees what the judge holds (a model); called once when the run is done with it. */
  dispose?(): void | Promise<void>;
}
