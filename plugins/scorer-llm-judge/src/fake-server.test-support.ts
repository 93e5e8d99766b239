import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

export type Reply = { status: number; body: unknown; headers?: Record<string, string> } | 'hang';

export interface FakeServer {
  /** http://127.0.0.1:<port>/v1 */
  readonly baseUrl: string;
  /** Every request, in arrival order. */
  readonly received: Received[];
  /** Most requests open at once. */
  readonly maxInFlight: () => number;
  /** Stops listening and drops open connections (a hanging request included). */
  close(): Promise<void>;
}

/**
 * An OpenAI-compatible stand-in on 127.0.0.1 (a free port): `reply` decides each answer from the
 * request and its index; 'hang' never answers. The test that starts it stops it.
 */
export async function startServer(reply: (req: Received, index: number) => Reply | Promise<Reply>): Promise<FakeServer> {
  const received: Received[] = [];
  let inFlight = 0;
  let most = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      const r: Received = { headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> };
      received.push(r);
      const answer = await reply(r, received.length - 1);
      if (answer === 'hang') return;
      inFlight--;
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    received,
    maxInFlight: () => most,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bound once by the OS, then released. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A chat completion as vLLM sends it; `top` = the first token's top_logprobs when given. */
export function completion(content: string, top?: [string, number][]): Record<string, unknown> {
  const logprobs = top
    ? { content: [{ token: top[0][0], logprob: top[0][1], top_logprobs: top.map(([token, logprob]) => ({ token, logprob })) }] }
    : null;
  return { id: 'cmpl-1', object: 'chat.completion', model: 'judge', choices: [{ index: 0, message: { role: 'assistant', content }, logprobs, finish_reason: 'stop' }] };
}
