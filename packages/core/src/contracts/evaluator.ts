/** Per-example predictions of a classification evaluation. */
export interface ClassificationRecord {
  readonly id: string;
  readonly label: number;
  /** [S][C] class probabilities of each weight sample. */
  readonly sampleProbs: readonly (readonly number[])[];
  /** [C] the combined predictive distribution. */
  readonly probs: readonly number[];
}

export interface GenerationRecord {
  readonly id: string;
  readonly question: string;
  readonly references: readonly string[];
  /** One text per weight sample. */
  readonly samples: readonly string[];
  readonly sampleNll: readonly number[];
}

export type Metrics = Record<string, number>;

export interface ClassificationEvaluator {
  readonly kind: 'classification';
  evaluate(records: readonly ClassificationRecord[]): Metrics;
}

export interface GenerativeEvaluator {
  readonly kind: 'generative';
  evaluate(records: readonly GenerationRecord[]): Promise<Metrics>;
}

export type Evaluator = ClassificationEvaluator | GenerativeEvaluator;
