import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ENV, ENV_NAMES, EnvError, checkEnv, envMarkdown, envText, readEnv } from './index';

describe('readEnv', () => {
  it('gives the default when unset or empty, and parses what is set', () => {
    expect(readEnv('BAYES_PEFT_THREADS', {})).toBe(1);
    expect(readEnv('BAYES_PEFT_THREADS', { BAYES_PEFT_THREADS: '  ' })).toBe(1);
    expect(readEnv('BAYES_PEFT_THREADS', { BAYES_PEFT_THREADS: ' 4 ' })).toBe(4);
    expect(readEnv('BAYES_PEFT_ORT_THREADS', {})).toBe(typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
    expect(readEnv('BAYES_PEFT_ORT_ROWS', {})).toBe(1536);
    expect(readEnv('BAYES_PEFT_FAST', {})).toBe(true);
    for (const off of ['0', 'false', 'OFF', 'no']) expect(readEnv('BAYES_PEFT_FAST', { BAYES_PEFT_FAST: off })).toBe(false);
    for (const on of ['1', 'True', 'on', 'yes']) expect(readEnv('HF_HUB_OFFLINE', { HF_HUB_OFFLINE: on })).toBe(true);
    expect(readEnv('BAYES_PEFT_BACKEND', {})).toBe('auto');
    expect(readEnv('BAYES_PEFT_BACKEND', { BAYES_PEFT_BACKEND: 'wasm' })).toBe('wasm');
    expect(readEnv('BAYES_PEFT_EVAL_ENGINE', { BAYES_PEFT_EVAL_ENGINE: 'tfjs' })).toBe('tfjs');
    expect(readEnv('BAYES_PEFT_CACHE', {})).toBeUndefined();
    expect(readEnv('HF_ENDPOINT', {})).toBe('https://huggingface.co');
    expect(readEnv('HF_ENDPOINT', { HF_ENDPOINT: 'http://127.0.0.1:8080/' })).toBe('http://127.0.0.1:8080/');
    expect(readEnv('CI', {})).toBe(false);
    expect(readEnv('CI', { CI: 'woodpecker' })).toBe(true);
  });

  it('reads process.env by default', () => {
    const saved = process.env.BAYES_PEFT_ORT_ROWS;
    try {
      process.env.BAYES_PEFT_ORT_ROWS = '12';
      expect(readEnv('BAYES_PEFT_ORT_ROWS')).toBe(12);
    } finally {
      if (saved === undefined) delete process.env.BAYES_PEFT_ORT_ROWS;
      else process.env.BAYES_PEFT_ORT_ROWS = saved;
    }
  });

  it('a bad value is an EnvError naming the variable, the value and what it takes', () => {
    const bad: [Parameters<typeof readEnv>[0], string, string][] = [
      ['BAYES_PEFT_THREADS', 'abc', "BAYES_PEFT_THREADS='abc' is not a positive integer"],
      ['BAYES_PEFT_THREADS', '0', "BAYES_PEFT_THREADS='0' is not a positive integer"],
      ['BAYES_PEFT_ORT_THREADS', '1.5', "BAYES_PEFT_ORT_THREADS='1.5' is not a positive integer"],
      ['BAYES_PEFT_ORT_ROWS', 'lots', "BAYES_PEFT_ORT_ROWS='lots' is not a positive integer"],
      ['BAYES_PEFT_ORT_ROWS', '-3', "BAYES_PEFT_ORT_ROWS='-3' is not a positive integer"],
      ['BAYES_PEFT_FAST', 'maybe', "BAYES_PEFT_FAST='maybe' is not a flag (1, 0, true, false, yes, no, on, off)"],
      ['BAYES_PEFT_BACKEND', 'webgpu', "BAYES_PEFT_BACKEND='webgpu' is not one of auto, tensorflow-gpu, tensorflow, wasm, cpu"],
      ['BAYES_PEFT_ORT_CUDA', 'yes', "BAYES_PEFT_ORT_CUDA='yes' is not one of auto, 1, 0"],
      ['HF_ENDPOINT', 'huggingface.co', "HF_ENDPOINT='huggingface.co' is not an http(s) URL"],
    ];
    for (const [name, value, message] of bad) {
      let error: unknown;
      try {
        readEnv(name, { [name]: value });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(EnvError);
      expect((error as EnvError).message).toBe(message);
      expect((error as EnvError).variable).toBe(name);
      expect((error as EnvError).name).toBe('EnvError');
    }
  });

  it('envText gives the variable as set, for log lines', () => {
    expect(envText('BAYES_PEFT_FAST', { BAYES_PEFT_FAST: ' 0 ' })).toBe('BAYES_PEFT_FAST=0');
    expect(envText('BAYES_PEFT_FAST', {})).toBeNull();
  });
});

describe('checkEnv', () => {
  it('passes when every set variable is good, lists every bad one otherwise', () => {
    expect(() => checkEnv({ BAYES_PEFT_THREADS: '2', HF_HUB_OFFLINE: '1', UNRELATED: 'x' })).not.toThrow();
    expect(() => checkEnv({ BAYES_PEFT_THREADS: 'two' })).toThrow("BAYES_PEFT_THREADS='two' is not a positive integer");
    expect(() => checkEnv({ BAYES_PEFT_THREADS: 'two', BAYES_PEFT_FAST: 'perhaps' })).toThrow(
      "bad environment variables:\n  BAYES_PEFT_FAST='perhaps' is not a flag (1, 0, true, false, yes, no, on, off)\n  BAYES_PEFT_THREADS='two' is not a positive integer",
    );
    // Install-time and test-only variables are checked only when asked for.
    expect(() => checkEnv({ BAYES_PEFT_NATIVE_BUILD: 'nope' })).not.toThrow();
    expect(() => checkEnv({ BAYES_PEFT_NATIVE_BUILD: 'nope' }, ['install'])).toThrow("BAYES_PEFT_NATIVE_BUILD='nope' is not one of 1, 0");
  });
});

describe('the declarations', () => {
  it('each has a type, a default text, a scope, a reader and a description', () => {
    for (const name of ENV_NAMES) {
      const v = ENV[name];
      expect([name, v.type.length > 0, v.defaultText.length > 0, v.readBy.length > 0, v.description.length > 20]).toEqual([name, true, true, true, true]);
      if (v.default !== undefined && typeof v.default !== 'function') expect(readEnv(name, {})).toBe(v.default);
    }
  });

  it('the docs table lists every variable once, in three tables', () => {
    const md = envMarkdown();
    for (const name of ENV_NAMES) expect(md.split(`| \`${name}\` |`)).toHaveLength(2);
    expect(md.match(/^\| variable \| type \| default \| effect \| read by \|$/gm)).toHaveLength(3);
    expect(md).toContain('| `BAYES_PEFT_THREADS` | positive integer | `1` |');
    expect(md).toContain('| `BAYES_PEFT_ORT_THREADS` | positive integer | every core |');
  });
});

/** Source files of the workspace's packages (not tests, not build output). */
function sources(): string[] {
  const root = path.resolve(__dirname, '..', '..', '..');
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (['node_modules', 'dist', 'build', '.turbo', '__tests__', 'templates'].includes(e.name)) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|js|mjs|c)$/.test(e.name) && !/\.test(-support)?\.ts$/.test(e.name) && !/\.d\.ts$/.test(e.name)) out.push(p);
    }
  };
  for (const group of ['packages', 'plugins', 'tooling']) walk(path.join(root, group));
  return out;
}

describe('the workspace', () => {
  const files = sources().map((f) => ({ file: f, text: fs.readFileSync(f, 'utf8') }));

  it('declares every BAYES_PEFT_ and Hugging Face variable its sources name', () => {
    const named = new Set<string>();
    for (const { text } of files) for (const m of text.matchAll(/\b(BAYES_PEFT_[A-Z0-9_]*[A-Z0-9]|HF_[A-Z_]+|HUGGING_?FACE_[A-Z_]+)\b/g)) named.add(m[1]);
    // Not environment variables: the adapter's metadata file name, and 'HF_' prefixes in prose.
    named.delete('BAYES_PEFT_META');
    const undeclared = [...named].filter((n) => !(ENV_NAMES as string[]).includes(n));
    expect(undeclared).toEqual([]);
  });

  it('reads BAYES_PEFT_ and Hugging Face variables only through readEnv', () => {
    const direct: string[] = [];
    for (const { file, text } of files) {
      for (const m of text.matchAll(/process\.env(?:\.|\[\s*['"`]?)([A-Za-z_][A-Za-z0-9_]*)/g)) {
        const name = m[1];
        // install scripts run before anything is built: they cannot import this module.
        if (/native-kernels[\\/]scripts[\\/]/.test(file)) continue;
        if (/^(BAYES_PEFT_|HF_|HUGGING)|_ENV$/.test(name)) direct.push(`${path.basename(file)}: process.env.${name}`);
      }
    }
    expect(direct).toEqual([]);
  });
});
