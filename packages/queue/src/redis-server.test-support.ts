import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { Redis } from 'ioredis';

/** Debian's redis-server on PATH, or null (the tests that need it are skipped, saying so once). */
export function findRedisServer(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() ? found.stdout.trim() : null;
}

/** A TCP port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * One redis-server on 127.0.0.1 started by a test: no snapshots, no append-only file, its
 * working folder `dir` (where an explicit SHUTDOWN SAVE writes dump.rdb, which a restart on the
 * same folder loads: how a test takes Redis away and brings the same data back).
 */
export class TestRedis {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(
    private readonly binary: string,
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts it and waits (at most `timeoutMs`) for "Ready to accept connections". */
  async start(timeoutMs = 10_000): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--daemonize', 'no'];
    const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not get ready in ${timeoutMs} ms:\n${this.output}`)), timeoutMs);
      const onData = (d: Buffer) => {
        this.output += d.toString();
        if (this.output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${signal ?? code}) before it was ready:\n${this.output}`));
      });
    });
  }

  /**
   * Stops it. `save`: SHUTDOWN SAVE first, so a later start() on the same port and folder comes
   * back with every key (a Redis restart, not a Redis loss). Waits for the process to end.
   */
  async stop(options: { save?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (options.save) {
      const client = new Redis(this.url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
      client.on('error', () => undefined);
      // The server closes the connection as it shuts down: the command's error is the expected outcome.
      await client
        .connect()
        .then(() => client.call('SHUTDOWN', 'SAVE'))
        .catch(() => undefined);
      client.disconnect();
    } else {
      child.kill('SIGKILL');
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 10_000);
    await exited;
    clearTimeout(timer);
  }
}
