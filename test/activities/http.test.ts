/**
 * `http` steps as the worker runs them: createActivities(...).httpRequest in a mocked activity context
 * (@temporalio/testing's MockActivityEnvironment), real requests to a server on 127.0.0.1.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import winston from 'winston';
import { createActivities } from '../../activities';
import type { StepInput, StepOutcome } from '../../activities';
import type { HttpSpec } from '../../compiler/runbook';
import type { JsonObject, PlanSite } from '../../contracts/plan';

const logger = winston.createLogger({ transports: [new winston.transports.Console({ silent: true })] });
/** The mocked activity context's own log ("Activity failed" for each expected failure), silenced. */
const quiet = (() => undefined) as () => void;
const sdkLogger: Logger = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet };

const site: PlanSite = {
  name: 'east',
  role: 'protected',
  provider: 'simulator',
  taskQueue: 'drover-east',
  testNetwork: 'test',
  maxParallel: 1,
  connection: {},
};

const workerEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, DNS_TOKEN: 'dns-token-value' };

function httpRequest(spec: HttpSpec): Promise<StepOutcome> {
  const input: StepInput = {
    runId: 'drover-t-test',
    stepId: 'http',
    kind: 'http',
    params: spec as unknown as JsonObject,
    site,
    peer: site,
  };
  const activities = createActivities({ providers: {}, cwd: process.cwd(), logger, env: workerEnv });
  return new MockActivityEnvironment(undefined, { logger: sdkLogger }).run(
    activities.httpRequest,
    input,
  ) as Promise<StepOutcome>;
}

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
let seen: Seen[];
/** What the server answers next: status and body. */
let answer: { status: number; body: string };

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  answer = { status: 200, body: 'all good' };
});

test('a GET answered 200 succeeds, unchanged, with the body as output', async () => {
  const out = await httpRequest({ url: `${base}/health` });
  expect(out).toMatchObject({ changed: false, message: `GET ${base}/health → 200`, output: 'all good' });
  expect(seen).toHaveLength(1);
  expect(seen[0]!.method).toBe('GET');
});

test('a POST with an object body sends JSON, resolves env: headers, and counts as a change', async () => {
  const out = await httpRequest({
    method: 'POST',
    url: `${base}/records`,
    headers: { Authorization: 'env:DNS_TOKEN' },
    body: { name: 'www', ip: '10.0.0.5' },
  });
  expect(out).toMatchObject({ changed: true, message: `POST ${base}/records → 200` });
  expect(seen[0]!.headers['content-type']).toBe('application/json');
  expect(seen[0]!.headers.authorization).toBe('dns-token-value');
  expect(JSON.parse(seen[0]!.body)).toEqual({ name: 'www', ip: '10.0.0.5' });
  expect(JSON.stringify(out)).not.toContain('dns-token-value');
});

test('a string body is sent as written, with the content-type the step gives', async () => {
  await httpRequest({ method: 'PUT', url: `${base}/x`, headers: { 'Content-Type': 'text/csv' }, body: 'a,b' });
  expect(seen[0]!.headers['content-type']).toBe('text/csv');
  expect(seen[0]!.body).toBe('a,b');
});

test('a status outside 2xx fails as HttpFailed (retryable) naming it', async () => {
  answer = { status: 503, body: 'warming up' };
  await expect(httpRequest({ url: `${base}/health` })).rejects.toMatchObject({
    type: 'HttpFailed',
    message: `GET ${base}/health answered 503`,
    nonRetryable: false,
  });
});

test('expectStatus replaces the 2xx default', async () => {
  answer = { status: 404, body: 'gone' };
  await expect(httpRequest({ method: 'DELETE', url: `${base}/r`, expectStatus: [404] })).resolves.toMatchObject({
    message: `DELETE ${base}/r → 404`,
  });
  answer = { status: 200, body: 'there' };
  await expect(httpRequest({ method: 'DELETE', url: `${base}/r`, expectStatus: [404] })).rejects.toMatchObject({
    message: `DELETE ${base}/r answered 200`,
  });
});

test('expectBody missing from the body fails, saying so', async () => {
  answer = { status: 200, body: 'status: starting' };
  await expect(httpRequest({ url: `${base}/health`, expectBody: 'ready' })).rejects.toMatchObject({
    type: 'HttpFailed',
    message: `GET ${base}/health answered 200 without "ready" in the body`,
  });
  answer = { status: 200, body: 'status: ready' };
  await expect(httpRequest({ url: `${base}/health`, expectBody: 'ready' })).resolves.toMatchObject({
    message: `GET ${base}/health → 200`,
  });
});

test('no server: HttpFailed naming the request and the connection error', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/health`;
  await new Promise((resolve) => closed.close(resolve));
  await expect(httpRequest({ url })).rejects.toMatchObject({
    type: 'HttpFailed',
    message: expect.stringMatching(new RegExp(`^GET ${url.replace(/[.]/g, '\\.')}: .*ECONNREFUSED`)),
  });
});

test('a header secret that is not set fails as MissingSecret, non-retryable, before any request', async () => {
  await expect(
    httpRequest({ url: `${base}/x`, headers: { Authorization: 'env:NOT_SET_ANYWHERE' } }),
  ).rejects.toMatchObject({ type: 'MissingSecret', nonRetryable: true });
  expect(seen).toHaveLength(0);
});
