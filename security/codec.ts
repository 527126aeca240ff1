/**
 * Payload encryption: a Temporal `PayloadCodec` (AES-256-GCM) that every Drover process uses when it is
 * configured, so run inputs, plans, step results (command output), queries, memos and failure messages are
 * ciphertext in Temporal's history and database. Search attributes (DroverPlan, ...) stay readable: the
 * server indexes them.
 *
 * Keys: `DROVER_ENCRYPTION_KEYS=<id>=<ref>[,<id>=<ref>...]`, each ref `env:NAME` or `file:path` holding
 * 32 bytes as base64 or hex. The first key encrypts; every listed key decrypts, found by the key id each
 * payload carries in its metadata, so payloads written before a rotation still decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, ValueError } from '@temporalio/common';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { resolveSecret } from '../activities/secrets';

export const ENCODING = 'binary/encrypted';
export const KEY_ID = 'encryption-key-id';
export const CIPHER = 'encryption-cipher';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : '');

/** A key configuration problem, said so that the operator can fix it (the CLI shows it without a trace). */
export class KeyConfigError extends Error {
  override readonly name = 'KeyConfigError';
}

export class AesGcmCodec implements PayloadCodec {
  /** `keys` in order: the first encrypts. */
  constructor(private readonly keys: ReadonlyMap<string, Buffer>) {
    if (keys.size === 0) throw new KeyConfigError('no encryption key given');
  }

  get currentKeyId(): string {
    return this.keys.keys().next().value!;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const id = this.currentKeyId;
    const key = this.keys.get(id)!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { [METADATA_ENCODING_KEY]: utf8(ENCODING), [KEY_ID]: utf8(id), [CIPHER]: utf8('AES256GCM') },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCODING) return payload;
      const id = text(payload.metadata?.[KEY_ID]);
      const key = this.keys.get(id);
      if (!key)
        throw new ValueError(
          `a payload is encrypted with key "${id}", which is not in DROVER_ENCRYPTION_KEYS (keys here: ${[...this.keys.keys()].join(', ')})`,
        );
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) throw new ValueError('an encrypted payload is too short');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new ValueError(`an encrypted payload does not authenticate with key "${id}" (altered, or another key)`);
      }
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/** Parses `DROVER_ENCRYPTION_KEYS`; undefined when it is not set (encryption off). */
export function keysFromEnv(env: NodeJS.ProcessEnv): Map<string, Buffer> | undefined {
  const spec = env.DROVER_ENCRYPTION_KEYS?.trim();
  if (!spec) return undefined;
  const keys = new Map<string, Buffer>();
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    const id = part.slice(0, eq).trim();
    const ref = part.slice(eq + 1).trim();
    if (eq <= 0 || !/^[A-Za-z0-9._-]+$/.test(id) || !/^(env|file):./.test(ref))
      throw new KeyConfigError(
        `DROVER_ENCRYPTION_KEYS: "${part}" is not <key id>=env:NAME or <key id>=file:path (the key itself is never written there)`,
      );
    if (keys.has(id)) throw new KeyConfigError(`DROVER_ENCRYPTION_KEYS: key id "${id}" is listed twice`);
    let material: string;
    try {
      material = resolveSecret(ref, env);
    } catch (e) {
      throw new KeyConfigError(`DROVER_ENCRYPTION_KEYS: key "${id}": ${(e as Error).message}`);
    }
    keys.set(id, keyBytes(id, material));
  }
  if (keys.size === 0) throw new KeyConfigError('DROVER_ENCRYPTION_KEYS lists no key');
  return keys;
}

function keyBytes(id: string, material: string): Buffer {
  const m = material.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(m) ? Buffer.from(m, 'hex') : Buffer.from(m, 'base64');
  if (key.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(m) && key.toString('base64') !== m))
    throw new KeyConfigError(`key "${id}" is not 32 bytes as base64 or hex: make one with \`openssl rand -base64 32\``);
  return key;
}

/** For workflow bundles built ahead (`bundleWorkflowCode({ failureConverterPath })`). */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * The data converter of every Drover client and worker: with keys, the codec, and failure messages and
 * stack traces moved into the (encrypted) encoded attributes; without, Temporal's default.
 */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv): DataConverter | undefined {
  const keys = keysFromEnv(env);
  return keys ? encryptingConverter(keys) : undefined;
}

export function encryptingConverter(keys: ReadonlyMap<string, Buffer>): DataConverter {
  return { payloadCodecs: [new AesGcmCodec(keys)], failureConverterPath: FAILURE_CONVERTER_PATH };
}
