/** The payload codec and its key configuration (security/codec.ts), without a server. */
import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { AesGcmCodec, ENCODING, KEY_ID, keysFromEnv } from '../../security/codec';

const b64 = randomBytes(32).toString('base64');
const hex = randomBytes(32).toString('hex');
const payload: Payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"pw":"hunter2"}') };
const meta = (p: Payload, k: string) => Buffer.from(p.metadata![k]!).toString();

test('encrypts with the first key, names it, and decrypts back; older keys still decrypt after a rotation', async () => {
  const old = new AesGcmCodec(keysFromEnv({ A: b64, DROVER_ENCRYPTION_KEYS: 'k1=env:A' })!);
  const [sealed] = await old.encode([payload]);
  expect(meta(sealed!, 'encoding')).toBe(ENCODING);
  expect(meta(sealed!, KEY_ID)).toBe('k1');
  expect(Buffer.from(sealed!.data!).includes('hunter2')).toBe(false);
  const rotated = new AesGcmCodec(keysFromEnv({ A: b64, B: hex, DROVER_ENCRYPTION_KEYS: 'k2=env:B,k1=env:A' })!);
  expect(meta((await rotated.encode([payload]))[0]!, KEY_ID)).toBe('k2');
  const [back] = await rotated.decode([sealed!]);
  expect(Buffer.from(back!.data!).toString()).toBe('{"pw":"hunter2"}');
  // Unencrypted payloads (a run started by a client without the codec) pass through.
  expect(await rotated.decode([payload])).toEqual([payload]);
});

test('a payload altered, or sealed with a key not configured, is refused with a clear error', async () => {
  const codec = new AesGcmCodec(keysFromEnv({ A: b64, DROVER_ENCRYPTION_KEYS: 'k1=env:A' })!);
  const [sealed] = await codec.encode([payload]);
  const data = Buffer.from(sealed!.data!);
  data[20] = data[20]! ^ 1;
  await expect(codec.decode([{ ...sealed!, data }])).rejects.toThrow(/does not authenticate with key "k1"/);
  const other = new AesGcmCodec(keysFromEnv({ B: hex, DROVER_ENCRYPTION_KEYS: 'k9=env:B' })!);
  await expect(other.decode([sealed!])).rejects.toThrow(
    /encrypted with key "k1", which is not in DROVER_ENCRYPTION_KEYS/,
  );
});

test('key configuration mistakes are named: not a reference, a short key, a missing variable, a key listed twice', () => {
  expect(keysFromEnv({})).toBeUndefined();
  const bad =
    (spec: string, e: NodeJS.ProcessEnv = {}) =>
    () =>
      keysFromEnv({ ...e, DROVER_ENCRYPTION_KEYS: spec });
  expect(bad(`k1=${b64}`)).toThrow(/is not <key id>=env:NAME or <key id>=file:path/);
  expect(bad('k1=env:A', { A: 'c2hvcnQ=' })).toThrow(
    /not 32 bytes as base64 or hex: make one with `openssl rand -base64 32`/,
  );
  expect(bad('k1=env:NOPE')).toThrow(/key "k1": environment variable NOPE is not set/);
  expect(bad('k1=env:A,k1=env:A', { A: b64 })).toThrow(/listed twice/);
});
