import { UserError } from '@bayes-peft/core';
import { displayUrl, redact } from './redact';

export interface PostOptions {
  readonly url: string;
  /** Sent as `Authorization: Bearer <key>`; never part of a message. */
  readonly apiKey?: string;
  readonly timeoutMs: number;
  /** Further attempts after the first, for 429, 5xx, timeouts and failed connections. */
  readonly retries: number;
  /** Wait before the first retry, doubled before each next one. */
  readonly backoffMs: number;
  /** For tests: the waiting between attempts. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Longest Retry-After a server can impose on a retry. */
const MAX_RETRY_AFTER_MS = 60_000;

/** A request that failed for good: the CLI prints the message alone (the URL and the last status, never the key). */
export class JudgeRequestError extends UserError {
  constructor(
    message: string,
    /** The last HTTP status, or null when no answer came (timeout, connection failure). */
    readonly status: number | null,
    /** Requests made, the first included. */
    readonly attempts: number,
  ) {
    super(message);
    this.name = 'JudgeRequestError';
  }
}

interface Attempt {
  readonly ok: boolean;
  readonly retryable: boolean;
  readonly status: number | null;
  /** What went wrong, for the message ('status 500: ...', 'no answer within 0.2 s'). */
  readonly why: string;
  readonly body?: unknown;
  readonly retryAfterMs?: number;
}

/**
 * POSTs `body` as JSON and returns the parsed answer, with one timeout per attempt and
 * exponential backoff between attempts on what a busy or restarting server answers (429, 5xx, no
 * answer in time, connection refused or reset). Other statuses fail at once: a 400 or 401 will not
 * change. Node's built-in fetch; nothing is logged.
 */
export async function postJson(body: unknown, options: PostOptions): Promise<unknown> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const payload = JSON.stringify(body);
  let delay = options.backoffMs;
  for (let attempt = 1; ; attempt++) {
    const a = await attemptOnce(payload, options);
    if (a.ok) return a.body;
    const last = !a.retryable || attempt > options.retries;
    if (last) {
      const tries = `${attempt} attempt${attempt === 1 ? '' : 's'}`;
      const message = `llm-judge: POST ${displayUrl(options.url)} failed after ${tries}: ${a.why}`;
      throw new JudgeRequestError(redact(message, options.apiKey), a.status, attempt);
    }
    await sleep(Math.max(delay, a.retryAfterMs ?? 0));
    delay *= 2;
  }
}

async function attemptOnce(payload: string, options: PostOptions): Promise<Attempt> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    const res = await fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
      body: payload,
      signal: controller.signal,
    });
    // The body is read under the same timeout: a server may send headers and then stall.
    const text = await res.text();
    if (res.ok) {
      try {
        return { ok: true, retryable: false, status: res.status, why: '', body: JSON.parse(text) };
      } catch {
        return { ok: false, retryable: false, status: res.status, why: `status ${res.status} with a body that is not JSON: ${snippet(text, options.apiKey)}` };
      }
    }
    const retryable = res.status === 429 || res.status >= 500;
    return { ok: false, retryable, status: res.status, why: `status ${res.status} ${res.statusText}: ${snippet(text, options.apiKey)}`.replace(' :', ':'), retryAfterMs: retryAfter(res.headers.get('retry-after')) };
  } catch (e) {
    if (controller.signal.aborted) return { ok: false, retryable: true, status: null, why: `no answer within ${options.timeoutMs / 1000} s (timeoutSeconds)` };
    return { ok: false, retryable: true, status: null, why: `no connection (${connectionError(e)})` };
  } finally {
    clearTimeout(timer);
  }
}

/** The start of an error body, one line, the key removed. */
function snippet(text: string, apiKey: string | undefined): string {
  const line = redact(text, apiKey).replace(/\s+/g, ' ').trim();
  if (!line) return '(empty body)';
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}

/** fetch's TypeError('fetch failed') carries the socket's error as its cause (ECONNREFUSED, ENOTFOUND). */
function connectionError(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message ?? String(e);
}

/** Retry-After in seconds (an HTTP date is ignored), capped. */
function retryAfter(header: string | null): number | undefined {
  const s = header === null ? NaN : Number(header);
  return Number.isFinite(s) && s >= 0 ? Math.min(s * 1000, MAX_RETRY_AFTER_MS) : undefined;
}
