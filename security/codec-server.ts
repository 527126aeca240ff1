/**
 * A Temporal codec server (the protocol the Web UI and `temporal --codec-endpoint` speak): POST
 * `/decode` and `/encode` with `{"payloads": [{"metadata": {k: base64}, "data": base64}]}`, answered in
 * kind. Listens on loopback by default; answers CORS only for the origins given (the Web UI's); with a
 * token, only requests that carry `Authorization: Bearer <token>` (the UI's "pass access token", the
 * CLI's `--codec-auth`) are answered, so only people who may see payloads see them decrypted.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';

interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

export interface CodecServerOptions {
  codec: PayloadCodec;
  host?: string;
  port?: number;
  /** Origins allowed to call it from a browser (the Web UI, e.g. http://127.0.0.1:8233). */
  origins: string[];
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Called once per request with what was done (for the log; never payload contents). */
  log?: (line: string) => void;
}

const MAX_BODY = 64 * 1024 * 1024;

const fromJson = ({ metadata, data }: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: data ? Buffer.from(data, 'base64') : new Uint8Array(),
});

const toJson = ({ metadata, data }: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
  ),
  data: Buffer.from(data ?? new Uint8Array()).toString('base64'),
});

export async function startCodecServer(opts: CodecServerOptions): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => void handle(opts, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8888, opts.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return { server, url: `http://${address.includes(':') ? `[${address}]` : address}:${port}` };
}

async function handle(opts: CodecServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const origin = req.headers.origin;
  if (origin && opts.origins.includes(origin)) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
    res.setHeader('Access-Control-Allow-Credentials', 'true');
  }
  const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
  const op = path.endsWith('/decode') ? 'decode' : path.endsWith('/encode') ? 'encode' : undefined;
  if (req.method === 'OPTIONS') return end(res, op ? 204 : 404);
  if (req.method !== 'POST' || !op) return end(res, 404, 'POST /decode or /encode');
  if (origin && !opts.origins.includes(origin)) return end(res, 403, `origin ${origin} is not allowed`);
  if (opts.token !== undefined && !bearerMatches(req.headers.authorization, opts.token))
    return end(res, 401, 'a bearer token is required');
  let body: { payloads?: JsonPayload[] };
  try {
    body = JSON.parse(await readBody(req)) as { payloads?: JsonPayload[] };
    if (!Array.isArray(body.payloads)) throw new Error('no payloads');
  } catch {
    return end(res, 400, 'the body must be {"payloads": [...]}');
  }
  try {
    const payloads = body.payloads.map(fromJson);
    const out = op === 'decode' ? await opts.codec.decode(payloads) : await opts.codec.encode(payloads);
    opts.log?.(`${op} ${payloads.length} payload(s) for namespace ${String(req.headers['x-namespace'] ?? '?')}`);
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ payloads: out.map(toJson) }));
  } catch (e) {
    opts.log?.(`${op} failed: ${(e as Error).message}`);
    end(res, 422, (e as Error).message);
  }
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function end(res: ServerResponse, status: number, text?: string): void {
  res.statusCode = status;
  if (text) res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(text);
}
