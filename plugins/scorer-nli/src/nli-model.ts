import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError, type Logger } from '@bayes-peft/core';
import { onnxRuntimeUnavailable, OnnxSession } from '@bayes-peft/onnx';
import { Tokenizer } from '@huggingface/tokenizers';
import { batchFeeds, KNOWN_INPUTS, type FeedLayout } from './batch-feed';
import { NliModelError } from './errors';
import { readLabels, type NliLabels } from './labels';
import type { NliModelFiles } from './model-files';
import { PairTokenizer, type PairEncoding } from './pair-tokenizer';
import { softmax } from './softmax';

/** One direction of a comparison: does `premise` entail `hypothesis`? */
export interface NliPair {
  readonly premise: string;
  readonly hypothesis: string;
}

/** The classifier's raw output and its softmax for one pair, by label index. */
export interface PairScores {
  readonly logits: readonly number[];
  readonly probs: readonly number[];
}

export interface LoadNliOptions {
  /** Longest pair in tokens; default tokenizer_config's model_max_length, else max_position_embeddings. */
  readonly maxLength?: number;
  readonly threads?: number;
  readonly log?: Logger;
}

/** tokenizer_config.json's "no limit" (transformers writes int(1e30) when the model sets none). */
const NO_LIMIT = 1e9;
/** When neither the tokenizer nor the config names a limit: the reference's max_length. */
const FALLBACK_MAX_LENGTH = 512;

/**
 * A sequence-classification cross-encoder loaded from an ONNX export: its labels (config.json),
 * its pair tokenizer (tokenizer.json) and one onnxruntime session. `classify` scores pairs in
 * batches, each distinct pair once.
 */
export class NliModel {
  /** Pairs that went through the graph since loading (distinct pairs per call): for tests and logs. */
  pairsRun = 0;

  private constructor(
    readonly where: string,
    readonly labels: NliLabels,
    readonly tokenizer: PairTokenizer,
    private readonly session: OnnxSession,
    private readonly layout: FeedLayout,
    private readonly output: string,
    private readonly log?: Logger,
  ) {}

  static async load(files: NliModelFiles, options: LoadNliOptions = {}): Promise<NliModel> {
    const where = files.where;
    const config = await readJson(path.join(files.dir, 'config.json'), where, true);
    const labels = readLabels(config, where);
    const tokenizerConfig = (await readJson(path.join(files.dir, 'tokenizer_config.json'), where, false)) ?? {};
    const maxLength = options.maxLength ?? modelMaxLength(tokenizerConfig, config);
    let impl: Tokenizer;
    try {
      impl = new Tokenizer(await readJson(path.join(files.dir, 'tokenizer.json'), where, true), tokenizerConfig);
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new NliModelError(where, `cannot build the tokenizer from tokenizer.json (${(e as Error).message})`);
    }
    const tokenizer = new PairTokenizer(impl, maxLength, where);
    const unavailable = onnxRuntimeUnavailable();
    if (unavailable) throw new UserError(`the NLI scorer runs its model on onnxruntime-node: ${unavailable}`);
    const bytes = await fs.readFile(files.graph);
    const session = await OnnxSession.create(bytes, { threads: options.threads, name: files.graph }).catch((e: Error) => {
      throw new NliModelError(where, `onnxruntime cannot load ${path.basename(files.graph)}: ${e.message}`);
    });
    const unknown = session.inputNames.filter((n) => !(KNOWN_INPUTS as readonly string[]).includes(n));
    if (!session.inputNames.includes('input_ids') || unknown.length > 0) {
      await session.dispose();
      throw new NliModelError(where, `the graph's inputs are ${session.inputNames.join(', ')}; a sequence-classification export takes ${KNOWN_INPUTS.join(', ')} (input_ids required)`);
    }
    const typeVocab = Number(config.type_vocab_size ?? 0);
    const layout: FeedLayout = {
      inputs: session.inputNames,
      types: session.inputTypes,
      padId: tokenizer.padId(tokenText(tokenizerConfig.pad_token), numberOr(config.pad_token_id)),
      segmentIds: typeVocab > 1,
    };
    const model = new NliModel(where, labels, tokenizer, session, layout, 'logits', options.log);
    options.log?.info(`  NLI model: ${where} (labels ${labels.names.join(', ')}; entailment = ${labels.entailment}; max length ${maxLength}; ${session.description})`);
    return model;
  }

  /** The pair's token ids as the graph sees them (special tokens included, truncated). */
  encode(pair: NliPair): PairEncoding {
    return this.tokenizer.encodePair(pair.premise, pair.hypothesis);
  }

  /**
   * Logits and class probabilities of every pair, in order. Equal pairs are run once (sampled
   * answers repeat); the distinct ones go in batches of `batchSize`, sorted by length so a batch
   * pads little.
   */
  async classify(pairs: readonly NliPair[], batchSize: number): Promise<PairScores[]> {
    const index = new Map<string, number>();
    const distinct: NliPair[] = [];
    const slot = pairs.map((p) => {
      const key = `${p.premise}\u0000${p.hypothesis}`;
      let i = index.get(key);
      if (i === undefined) {
        index.set(key, (i = distinct.length));
        distinct.push(p);
      }
      return i;
    });
    const encoded = distinct.map((p) => this.encode(p));
    const cut = encoded.filter((e) => e.truncated).length;
    if (cut > 0) this.log?.warn(`NLI: ${cut} pair${cut === 1 ? '' : 's'} longer than ${this.tokenizer.maxLength} tokens cut (longest side first)`);
    const order = encoded.map((_, i) => i).sort((a, b) => encoded[a].ids.length - encoded[b].ids.length);
    const scores = new Array<PairScores>(distinct.length);
    for (const rows of this.batches(order, encoded, batchSize)) {
      const logits = await this.forward(rows.map((i) => encoded[i]));
      rows.forEach((i, r) => (scores[i] = { logits: logits[r], probs: softmax(logits[r]) }));
    }
    this.pairsRun += distinct.length;
    return slot.map((i) => scores[i]);
  }

  async dispose(): Promise<void> {
    await this.session.dispose();
  }

  /** Consecutive runs of `order` of at most `size`; of one length each when the graph takes no attention mask (padding would be read as text). */
  private *batches(order: readonly number[], encoded: readonly PairEncoding[], size: number): Generator<number[]> {
    const masked = this.layout.inputs.includes('attention_mask');
    let rows: number[] = [];
    for (const i of order) {
      if (rows.length === size || (!masked && rows.length > 0 && encoded[rows[0]].ids.length !== encoded[i].ids.length)) {
        yield rows;
        rows = [];
      }
      rows.push(i);
    }
    if (rows.length > 0) yield rows;
  }

  private async forward(rows: readonly PairEncoding[]): Promise<number[][]> {
    const out = await this.session.run(batchFeeds(rows, this.layout), [this.output]);
    const { data, dims } = out[this.output];
    const classes = this.labels.names.length;
    if (dims.length !== 2 || dims[0] !== rows.length || dims[1] !== classes) {
      throw new NliModelError(this.where, `the graph's ${this.output} has shape [${dims.join(', ')}]; expected [${rows.length}, ${classes}] (one logit per label of config.json)`);
    }
    return rows.map((_, r) => Array.from(data.subarray(r * classes, (r + 1) * classes)));
  }
}

/** tokenizer_config's model_max_length when it names one, else config's max_position_embeddings, else 512. */
function modelMaxLength(tokenizerConfig: Record<string, unknown>, config: Record<string, unknown>): number {
  const fromTokenizer = numberOr(tokenizerConfig.model_max_length);
  if (fromTokenizer !== undefined && fromTokenizer > 0 && fromTokenizer < NO_LIMIT) return fromTokenizer;
  return numberOr(config.max_position_embeddings) ?? FALLBACK_MAX_LENGTH;
}

function numberOr(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** A special token in tokenizer_config.json: a string or an AddedToken object. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const content = (v as { content?: unknown } | null)?.content;
  return typeof content === 'string' ? content : undefined;
}

async function readJson(file: string, where: string, required: true): Promise<Record<string, unknown>>;
async function readJson(file: string, where: string, required: false): Promise<Record<string, unknown> | null>;
async function readJson(file: string, where: string, required: boolean): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return null;
    throw new NliModelError(where, `cannot read ${path.basename(file)} (${code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new NliModelError(where, `${path.basename(file)} is not valid JSON (${(e as Error).message})`);
  }
}
