import * as os from 'node:os';
import * as path from 'node:path';
import type { Backbone } from '@bayes-peft/core';
import { loadCausalLm } from '@bayes-peft/backbone-causal-lm';
import { makeTinyLlama } from '@bayes-peft/fixtures';
import { initBackend, tf } from '@bayes-peft/tensor';

/**
 * Where the tiny model lives: one folder per machine, shared by every test file and process.
 * makeTinyLlama is idempotent and writes beside the target before swapping it in, so concurrent
 * jest workers at worst both write it once.
 */
export function tinyModelDir(): string {
  return path.join(os.tmpdir(), 'bayes-peft-plugin-testkit', 'tiny-llama');
}

/**
 * The model conformance runs on: the seeded random Llama of @bayes-peft/fixtures (two layers,
 * hidden 64, GQA, untied lm_head, ~206K parameters) loaded by the real causal-LM backbone, so a
 * wrapper is checked against the code users run, at a size that trains in milliseconds.
 */
export async function loadTinyBackbone(options: { dir?: string } = {}): Promise<Backbone> {
  await useTestBackend();
  const dir = options.dir ?? tinyModelDir();
  await makeTinyLlama(dir, 'tiny');
  return loadCausalLm(dir);
}

/**
 * The engine users get: `auto` (tensorflow-gpu > tensorflow > wasm > cpu, or $BAYES_PEFT_BACKEND),
 * chosen before the backbone loads since loadCausalLm keeps an engine already chosen. The wasm
 * engine trains the tiny model about 20 times faster than the pure-JS cpu one.
 */
export async function useTestBackend(): Promise<void> {
  await initBackend('auto', () => {});
  await tf.ready();
  // The CPU backend prints a one-time "install tfjs-node" banner on its first op; tests need no advert.
  const warn = console.warn;
  console.warn = () => {};
  try {
    tf.dispose(tf.zeros([1]));
  } finally {
    console.warn = warn;
  }
}
