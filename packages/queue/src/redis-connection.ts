import { Redis, type RedisOptions } from 'ioredis';
import { UserError } from '@bayes-peft/core';

/** A redis:// or rediss:// URL checked up front, so a typo is one clear line, not a reconnect loop. */
export function checkRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`--redis: '${url}' is not a URL; expected redis://host:port (or rediss://, redis://:password@host:port/db)`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new UserError(`--redis: '${url}' is not a redis:// or rediss:// URL`);
  if (!parsed.hostname) throw new UserError(`--redis: '${url}' names no host`);
  return url;
}

/** The URL without its password, for log lines. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * A connection for a short command (enqueue): it gives up after a few seconds of not reaching
 * Redis, so `bayes-peft enqueue` with a wrong host fails with the reason instead of hanging.
 */
export function commandConnection(url: string): Redis {
  return new Redis(checkRedisUrl(url), {
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    retryStrategy: (times) => (times > 3 ? null : 300 * times),
  });
}

/**
 * A worker's connection. BullMQ's workers block on Redis and must never give up a command, so
 * `maxRetriesPerRequest: null` (BullMQ refuses anything else); it reconnects forever, soon at
 * first and then every 2 s, so a Redis restart of a few seconds costs a few seconds. Commands
 * issued while it is down (a lock renewal, a job's completion) wait in ioredis' offline queue
 * and go out on reconnect.
 */
export function workerConnection(url: string, name: string): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: null,
    connectionName: name,
    retryStrategy: (times) => Math.min(250 * times, 2_000),
  };
  return new Redis(checkRedisUrl(url), options);
}

/**
 * Reports a connection going away and coming back, one line each (ioredis emits an error per
 * failed reconnect attempt; a Redis restart must not flood the worker's log).
 */
export function watchConnection(connection: Redis, log: (line: string) => void): { stop(): void } {
  let lost = false;
  let everReady = false;
  const onReady = () => {
    if (lost) log('redis: reconnected');
    lost = false;
    everReady = true;
  };
  const onClose = () => {
    if (everReady && !lost) {
      lost = true;
      log('redis: connection lost; reconnecting (running jobs go on)');
    }
  };
  connection.on('ready', onReady);
  connection.on('close', onClose);
  // Without a listener ioredis prints every failed attempt itself. Once connected, the lines
  // above say enough; before, the first failure says why the worker is silent.
  let toldUnreachable = false;
  connection.on('error', (e: Error) => {
    if (everReady || toldUnreachable) return;
    toldUnreachable = true;
    log(`redis: cannot connect (${e.message}); retrying every 2 s`);
  });
  // A connection closed on purpose (the worker stopping) is not news.
  return {
    stop: () => {
      connection.off('ready', onReady);
      connection.off('close', onClose);
    },
  };
}
