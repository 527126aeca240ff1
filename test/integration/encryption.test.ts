/**
 * Payload encryption on a real Temporal dev server: with DROVER_ENCRYPTION_KEYS, a run whose command
 * prints a secret (and whose failing command writes it to stderr) leaves 0 plaintext bytes of it in the
 * whole history (the raw protobuf of every event), while the same run without a key leaves it readable
 * (so the check can fail). `drover codec-server` decrypts those payloads for the real `temporal` CLI (the
 * Web UI speaks the same protocol) only with the bearer token and only for the allowed browser origins;
 * after a key rotation the old runs still decrypt.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundle } from '@temporalio/worker';
import { AesGcmCodec, encryptingConverter, FAILURE_CONVERTER_PATH, keysFromEnv } from '../../security/codec';
import { startCodecServer } from '../../security/codec-server';
import type { RunRecord } from '../../contracts/record';
import { Scenario, step, TEMPORAL_BIN, useHarness } from './harness';

jest.setTimeout(120_000);
const t = useHarness();

const SECRET = `s3cret-${randomBytes(8).toString('hex')}`;
const KEY1 = randomBytes(32).toString('base64');
const KEY2 = randomBytes(32).toString('hex');
const env = { ...process.env, K1: KEY1, K2: KEY2 };
let bundle: WorkflowBundle;

beforeAll(async () => {
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
  });
}, 120_000);

/** The web shop with two steps that handle a secret file: one prints it, one fails with it on stderr. */
function scenario(keys?: string): Scenario {
  const s = Scenario.webshop(t.h, (doc) => {
    doc.setIn(
      ['steps'],
      [
        {
          name: 'print-token',
          at: 'before',
          modes: ['test'],
          command: {
            argv: ['node', '-e', "console.log('token=' + require('fs').readFileSync('secret.txt', 'utf8'))"],
          },
          compensation: 'none',
        },
        {
          name: 'leak-on-failure',
          at: 'before',
          modes: ['test'],
          onFailure: 'continue',
          retry: { maxAttempts: 1 },
          command: {
            argv: [
              'node',
              '-e',
              "console.error('bad token ' + require('fs').readFileSync('secret.txt', 'utf8')); process.exit(3)",
            ],
          },
          compensation: 'none',
        },
      ],
    );
  });
  // Data a command reads on the worker (a customer's dump, a token file): not a Drover secret reference,
  // which output masks anyway (activities/command.ts redactor), so it reaches history unless encrypted.
  writeFileSync(join(s.dir, 'secret.txt'), SECRET);
  if (keys) {
    const converter = encryptingConverter(keysFromEnv({ ...env, DROVER_ENCRYPTION_KEYS: keys })!);
    s.dataConverter = converter;
    s.bundle = bundle;
    s.client = new Client({ connection: t.h.env.connection, namespace: 'default', dataConverter: converter });
  }
  return s;
}

/** Every event of the run as Temporal stores it, encoded back to protobuf bytes. */
async function rawHistory(workflowId: string): Promise<Buffer> {
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await t.h.env.client.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId },
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return Buffer.from(temporal.api.history.v1.History.encode({ events }).finish());
}

/** The payloads' data in `temporal workflow show --output json` (base64 in proto JSON), decoded and joined. */
const payloadTexts = (json: string) =>
  [...json.matchAll(/"data": "([A-Za-z0-9+/=]*)"/g)]
    .map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'))
    .join('\n');

const occurrences = (hay: Buffer, needle: string) => {
  let n = 0;
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) n++;
  return n;
};

async function runTest(s: Scenario): Promise<{ id: string; record: RunRecord }> {
  await s.startWorkers();
  try {
    const handle = await s.start('test');
    const record = (await handle.result()) as RunRecord;
    return { id: handle.workflowId, record };
  } finally {
    await s.stopWorkers();
  }
}

test('without a key the secret is readable in history: the check below can fail', async () => {
  const { id, record } = await runTest(scenario());
  expect(step(record, 'plan/print-token').status).toBe('succeeded');
  expect(occurrences(await rawHistory(id), SECRET)).toBeGreaterThan(0);
});

test('with DROVER_ENCRYPTION_KEYS the whole history holds 0 plaintext bytes of the secret; the codec server decrypts it for the temporal CLI, with the token, after a rotation too', async () => {
  const s = scenario('k1=env:K1');
  const { id, record } = await runTest(s);
  // The run went on as usual, and this (decrypting) client reads its record.
  expect(record.status).toBe('succeeded');
  expect(step(record, 'plan/leak-on-failure').status).toBe('failed');
  const raw = await rawHistory(id);
  console.log(
    `encrypted run ${id}: ${raw.length} bytes of history, ${occurrences(raw, SECRET)} plaintext occurrences of the secret`,
  );
  expect(occurrences(raw, SECRET)).toBe(0);
  expect(occurrences(raw, 'binary/encrypted')).toBeGreaterThan(10);

  // After a rotation (k2 encrypts, k1 still decrypts), the codec server reads the old run.
  const rotated = keysFromEnv({ ...env, DROVER_ENCRYPTION_KEYS: 'k2=env:K2, k1=env:K1' })!;
  const { server, url } = await startCodecServer({
    codec: new AesGcmCodec(rotated),
    port: 0,
    origins: ['http://127.0.0.1:8233'],
    token: 'let-me-see',
  });
  try {
    const show = (...extra: string[]) =>
      promisify(execFile)(
        TEMPORAL_BIN,
        [
          'workflow',
          'show',
          '--workflow-id',
          id,
          '--address',
          t.h.address,
          '--namespace',
          'default',
          '--output',
          'json',
          ...extra,
        ],
        { maxBuffer: 64 << 20 },
      ).then((r) => r.stdout);
    expect(payloadTexts(await show())).not.toContain(SECRET);
    const decoded = payloadTexts(await show('--codec-endpoint', url, '--codec-auth', 'Bearer let-me-see'));
    expect(decoded).toContain(`token=${SECRET}`);
    expect(decoded).toContain(`bad token ${SECRET}`);
    // Without the token, or from a browser origin not allowed, nothing is decrypted.
    await expect(show('--codec-endpoint', url)).rejects.toThrow();
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{"payloads":[]}',
      });
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: 'Bearer let-me-see', origin: 'http://evil.example' })).status).toBe(403);
    const preflight = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:8233' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
  } finally {
    await new Promise((r) => (server as Server).close(r));
  }
});
