/**
 * The validations real providers run against a recovered guest (providers/checks.ts), against listeners of
 * this test on loopback only (127.0.0.1 and ::1): TCP, HTTP, commands, `{guest}` in URLs, cancellation, and
 * the readiness wait for a port.
 */
import { createServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server as TcpServer } from 'node:net';
import { runValidations, waitForPort } from '../../providers/checks';
import type { CheckOptions } from '../../providers/checks';
import { ProviderError } from '../../providers/errors';
import type { Validation } from '../../compiler/runbook';

type Listener = TcpServer | HttpServer;
const open: Listener[] = [];

async function listen<S extends Listener>(server: S, host = '127.0.0.1', port = 0): Promise<S> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  open.push(server);
  return server;
}

const portOf = (server: Listener) => (server.address() as AddressInfo).port;

/** A port nothing listens on (it did a moment ago, on 127.0.0.1). */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = portOf(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An HTTP server answering every request with `status` and `body`; `seen` gets each request's host header. */
function httpServer(status: number, body: string, seen: string[] = []): HttpServer {
  return createServer((req, res) => {
    seen.push(req.headers.host ?? '');
    res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  });
}

afterEach(async () => {
  for (const server of open.splice(0)) {
    if ('closeAllConnections' in server) server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

function options(overrides: Partial<CheckOptions> = {}): CheckOptions & { beats: number } {
  const out = {
    signal: new AbortController().signal,
    cwd: process.cwd(),
    env: { PATH: process.env.PATH, HEALTH_TOKEN: 'token-value' } as NodeJS.ProcessEnv,
    beats: 0,
    heartbeat() {
      out.beats++;
    },
    ...overrides,
  };
  return out;
}

/** runValidations' rejection (fails the test when it resolves). */
async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ProviderError);
  return e as ProviderError;
}

const node = (script: string) => [process.execPath, '-e', script];

describe('runValidations: passing checks', () => {
  test('tcp, http and command checks pass against local listeners, in order, with a summary of each', async () => {
    const tcp = await listen(createTcpServer((s) => s.end()));
    const seen: string[] = [];
    const web = await listen(httpServer(200, 'status: ready', seen));
    const checks: Validation[] = [
      { tcp: { port: portOf(tcp) } },
      {
        name: 'web',
        http: { url: `http://127.0.0.1:${portOf(web)}/health`, headers: { 'X-Token': 'env:HEALTH_TOKEN' } },
      },
      { command: { argv: node('process.exit(0)') } },
    ];
    const opts = options();
    const report = await runValidations(checks, { host: '127.0.0.1', workload: 'orders-db' }, opts);
    expect(report.results.map((r) => [r.name, r.ok])).toEqual([
      [`tcp ${portOf(tcp)}`, true],
      ['web', true],
      [`command ${process.execPath} -e process.exit(0)`, true],
    ]);
    expect(report.results[1]!.detail).toBe(`http GET http://127.0.0.1:${portOf(web)}/health → 200`);
    expect(report.message).toMatch(
      new RegExp(
        `^orders-db: 3 checks passed against 127\\.0\\.0\\.1 \\(tcp ${portOf(tcp)} connected in \\d+ ms, ` +
          `web: http GET http://127\\.0\\.0\\.1:${portOf(web)}/health → 200 in \\d+ ms, command .* exited 0 in \\d+ ms\\)$`,
      ),
    );
    expect(seen).toHaveLength(1);
    expect(opts.beats).toBeGreaterThanOrEqual(3);
  });

  test('tcp with its own host connects there, not to the guest', async () => {
    const tcp = await listen(createTcpServer((s) => s.end()));
    const closed = await closedPort();
    // The guest's port is closed: only the check's own host (127.0.0.1) answers.
    const report = await runValidations(
      [{ tcp: { host: '127.0.0.1', port: portOf(tcp) } }],
      { host: '::1', workload: 'w' },
      options(),
    );
    expect(report.results[0]).toMatchObject({ ok: true, name: `tcp 127.0.0.1:${portOf(tcp)}` });
    await expect(
      runValidations([{ tcp: { port: closed } }], { host: '127.0.0.1', workload: 'w' }, options()),
    ).rejects.toThrow(/refused/);
  });
});

describe('runValidations: failing checks say what was tried and what came back', () => {
  test('a closed port fails with ValidationFailed naming the port, after running the other checks', async () => {
    const port = await closedPort();
    const web = await listen(httpServer(200, 'ok'));
    const e = await failureOf(
      runValidations(
        [{ name: 'db-port', tcp: { port } }, { http: { url: `http://127.0.0.1:${portOf(web)}/` } }],
        { host: '127.0.0.1', workload: 'orders-db' },
        options(),
      ),
    );
    expect(e.type).toBe('ValidationFailed');
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(
      new RegExp(`^orders-db: 1 of 2 checks failed against 127\\.0\\.0\\.1: db-port: tcp ${port}: connection refused`),
    );
    expect(e.message).toContain(`passed: http GET http://127.0.0.1:${portOf(web)}/`);
  });

  test('a wrong status fails naming the status and the body that came back', async () => {
    const web = await listen(httpServer(503, 'warming up'));
    const url = `http://127.0.0.1:${portOf(web)}/health`;
    const e = await failureOf(runValidations([{ http: { url } }], { host: '127.0.0.1', workload: 'web' }, options()));
    expect(e.type).toBe('ValidationFailed');
    expect(e.message).toContain(`http GET ${url}: answered 503, body "warming up"`);
  });

  test('a body without expectBody fails quoting what the body said', async () => {
    const web = await listen(httpServer(200, 'status: starting'));
    const url = `http://127.0.0.1:${portOf(web)}/health`;
    const e = await failureOf(
      runValidations([{ http: { url, expectBody: 'ready' } }], { host: '127.0.0.1', workload: 'web' }, options()),
    );
    expect(e.message).toContain(`answered 200 without "ready" in the body, body "status: starting"`);
  });

  test('a command that exits 1 fails with its exit status and output', async () => {
    const e = await failureOf(
      runValidations(
        [{ name: 'replica-lag', command: { argv: node('console.log("lag 900s"); process.exit(1)') } }],
        { host: '127.0.0.1', workload: 'db' },
        options(),
      ),
    );
    expect(e.type).toBe('ValidationFailed');
    expect(e.message).toMatch(/replica-lag: command .*: exited 1: lag 900s/);
  });

  test('a check past its own timeout fails, saying how long it waited', async () => {
    // Accepts the request, never answers.
    const hanging = await listen(createServer(() => undefined));
    const url = `http://127.0.0.1:${portOf(hanging)}/`;
    const started = Date.now();
    const e = await failureOf(
      runValidations([{ http: { url }, timeout: '300ms' }], { host: '127.0.0.1', workload: 'w' }, options()),
    );
    expect(e.type).toBe('ValidationFailed');
    expect(e.message).toContain(`http GET ${url}: no answer within 300ms`);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('runValidations: the guest', () => {
  test('{guest} in a URL becomes an IPv4 guest address', async () => {
    const seen: string[] = [];
    const web = await listen(httpServer(200, 'ok', seen));
    const report = await runValidations(
      [{ http: { url: `http://{guest}:${portOf(web)}/health` } }],
      { host: '127.0.0.1', workload: 'w' },
      options(),
    );
    expect(report.results[0]!.detail).toBe(`http GET http://127.0.0.1:${portOf(web)}/health → 200`);
    expect(seen).toEqual([`127.0.0.1:${portOf(web)}`]);
  });

  test('{guest} in a URL becomes an IPv6 guest address in brackets; tcp reaches ::1 too', async () => {
    const seen: string[] = [];
    const web = await listen(httpServer(200, 'ok', seen), '::1');
    const tcp = await listen(
      createTcpServer((s) => s.end()),
      '::1',
    );
    const report = await runValidations(
      [{ http: { url: `http://{guest}:${portOf(web)}/health` } }, { tcp: { port: portOf(tcp) } }],
      { host: '::1', workload: 'w' },
      options(),
    );
    expect(report.results.map((r) => r.ok)).toEqual([true, true]);
    expect(report.results[0]!.detail).toBe(`http GET http://[::1]:${portOf(web)}/health → 200`);
    expect(seen).toEqual([`[::1]:${portOf(web)}`]);
    expect(report.message).toContain('passed against ::1');
  });

  test('a command sees DROVER_GUEST_IP and DROVER_WORKLOAD, and not the worker secrets', async () => {
    const script =
      'const e = process.env; console.log(e.DROVER_GUEST_IP + "/" + e.DROVER_WORKLOAD + "/" + e.HEALTH_TOKEN);' +
      'process.exit(e.DROVER_GUEST_IP === "::1" && e.DROVER_WORKLOAD === "orders-db" && !e.HEALTH_TOKEN ? 0 : 4)';
    const report = await runValidations(
      [{ command: { argv: node(script) } }],
      { host: '::1', workload: 'orders-db' },
      options(),
    );
    expect(report.results[0]).toMatchObject({ ok: true });
    expect(report.results[0]!.detail).toMatch(/exited 0$/);
  });
});

describe('runValidations: what cannot be run', () => {
  test('sql without a handler is InvalidInput before any check runs', async () => {
    const opts = options();
    const e = await failureOf(
      runValidations(
        [{ command: { argv: node('process.exit(0)') } }, { sql: { query: 'select 1' } }],
        { host: '127.0.0.1', workload: 'db' },
        opts,
      ),
    );
    expect(e.type).toBe('InvalidInput');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('sql validations need the postgres provider');
    expect(opts.beats).toBe(0);
  });

  test('sql goes to the handler the provider passes, with the guest', async () => {
    const calls: string[] = [];
    const report = await runValidations(
      [{ name: 'orders', sql: { query: 'select count(*) from orders', expectRows: 1 } }],
      { host: '127.0.0.1', workload: 'db' },
      options({
        sql: async (sql, { target }) => {
          calls.push(`${sql.query} @ ${target.host}`);
          return { ok: true, detail: '1 row' };
        },
      }),
    );
    expect(calls).toEqual(['select count(*) from orders @ 127.0.0.1']);
    expect(report.message).toContain('orders: sql select count(*) from orders 1 row');
  });

  test('a header secret missing on the worker stops with MissingSecret, non-retryable', async () => {
    const web = await listen(httpServer(200, 'ok'));
    await expect(
      runValidations(
        [{ http: { url: `http://127.0.0.1:${portOf(web)}/`, headers: { Authorization: 'env:NOT_SET_ANYWHERE' } } }],
        { host: '127.0.0.1', workload: 'w' },
        options(),
      ),
    ).rejects.toMatchObject({ type: 'MissingSecret', nonRetryable: true, message: expect.stringMatching(/^w: http/) });
  });
});

describe('runValidations: cancellation', () => {
  test('an abort cancels a hanging http check at once, with the abort reason', async () => {
    let requests = 0;
    const hanging = await listen(createServer(() => requests++));
    const controller = new AbortController();
    const started = Date.now();
    const running = runValidations(
      [{ http: { url: `http://127.0.0.1:${portOf(hanging)}/` }, timeout: '1m' }],
      { host: '127.0.0.1', workload: 'w' },
      options({ signal: controller.signal }),
    );
    setTimeout(() => controller.abort(new Error('activity cancelled')), 200);
    await expect(running).rejects.toThrow('activity cancelled');
    expect(requests).toBe(1);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('waitForPort', () => {
  test('succeeds once a server starts listening, 300 ms later, trying (and heartbeating) between pauses', async () => {
    const port = await closedPort();
    let beats = 0;
    const started = Date.now();
    const server = createTcpServer((s) => s.end());
    const late = new Promise((resolve) => setTimeout(resolve, 300)).then(() => listen(server, '127.0.0.1', port));
    const out = await waitForPort('127.0.0.1', port, {
      signal: new AbortController().signal,
      heartbeat: () => beats++,
      intervalMs: 100,
      timeoutMs: 10_000, // fails the test, rather than hanging it, if the server could not start
    });
    await late;
    expect(server.listening).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(out.tries).toBeGreaterThanOrEqual(2);
    // Paused between attempts: about one every 100 ms, not a busy loop.
    expect(out.tries).toBeLessThanOrEqual(10);
    expect(beats).toBe(out.tries);
  });

  test('gives up on abort, at once, with the abort reason', async () => {
    const port = await closedPort();
    const controller = new AbortController();
    let beats = 0;
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('activity cancelled')), 500);
    await expect(
      waitForPort('127.0.0.1', port, { signal: controller.signal, heartbeat: () => beats++, intervalMs: 200 }),
    ).rejects.toThrow('activity cancelled');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(490);
    expect(took).toBeLessThan(1500);
    expect(beats).toBeGreaterThanOrEqual(2);
    expect(beats).toBeLessThanOrEqual(4);
  });

  test('with timeoutMs, gives up with InvalidState (retryable) naming the port and the last error', async () => {
    const port = await closedPort();
    const e = await failureOf(
      waitForPort('127.0.0.1', port, {
        signal: new AbortController().signal,
        heartbeat: () => undefined,
        timeoutMs: 400,
        intervalMs: 100,
      }),
    );
    expect(e.type).toBe('InvalidState');
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(
      new RegExp(`^127\\.0\\.0\\.1:${port} accepted no connection within 400ms .*connection refused`),
    );
  });
});
