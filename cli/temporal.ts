/**
 * Connecting to Temporal the standard way: `@temporalio/envconfig` reads TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, and the TOML profiles (TEMPORAL_CONFIG_FILE,
 * TEMPORAL_PROFILE) that the `temporal` CLI reads too. Without any, the embedded dev server on
 * 127.0.0.1:7233 and the `default` namespace.
 */
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { dataConverterFromEnv, KeyConfigError } from '../security/codec';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { EXIT, UserError } from './io';

export const DEFAULT_ADDRESS = '127.0.0.1:7233';

export interface TemporalTarget {
  connectionOptions: NativeConnectionOptions;
  namespace: string;
  address: string;
}

export function temporalTarget(env: NodeJS.ProcessEnv): TemporalTarget {
  let config;
  try {
    const overrideEnvVars = Object.fromEntries(
      Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const profile = env.TEMPORAL_PROFILE;
    config = loadClientConnectConfig({ overrideEnvVars, ...(profile ? { profile } : {}) });
  } catch (e) {
    throw new UserError(
      `cannot load the Temporal client configuration: ${(e as Error).message}`,
      'check TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE, or unset them',
    );
  }
  const connectionOptions: NativeConnectionOptions = { ...config.connectionOptions };
  connectionOptions.address ??= DEFAULT_ADDRESS;
  return { connectionOptions, namespace: config.namespace ?? 'default', address: connectionOptions.address };
}

export async function connectClient(
  env: NodeJS.ProcessEnv,
): Promise<{ client: Client; connection: Connection; target: TemporalTarget }> {
  const target = temporalTarget(env);
  try {
    const dataConverter = dataConverterOf(env);
    const connection = await Connection.connect({ ...(target.connectionOptions as object), connectTimeout: '5s' });
    return {
      client: new Client({ connection, namespace: target.namespace, ...(dataConverter ? { dataConverter } : {}) }),
      connection,
      target,
    };
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw unreachable(target, e);
  }
}

/** Payload encryption when DROVER_ENCRYPTION_KEYS is set (security/codec.ts); a bad key list is the user's to fix. */
export function dataConverterOf(env: NodeJS.ProcessEnv): DataConverter | undefined {
  try {
    return dataConverterFromEnv(env);
  } catch (e) {
    if (e instanceof KeyConfigError)
      throw new UserError(
        e.message,
        'DROVER_ENCRYPTION_KEYS=<id>=env:NAME|file:path,...; the first key encrypts, all decrypt',
      );
    throw e;
  }
}

export function unreachable(target: TemporalTarget, e: unknown): UserError {
  return new UserError(
    `cannot reach Temporal at ${target.address} (namespace ${target.namespace}): ${(e as Error).message.split('\n')[0]}`,
    target.address === DEFAULT_ADDRESS
      ? 'start the embedded server with `drover server` (in another terminal), or set TEMPORAL_ADDRESS to your cluster'
      : 'check --address / TEMPORAL_ADDRESS, --namespace / TEMPORAL_NAMESPACE and TLS/API key settings',
    EXIT.unreachable,
  );
}
