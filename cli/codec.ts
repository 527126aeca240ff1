/** `drover codec-server`: decrypts payloads for the Temporal Web UI and CLI (security/codec-server.ts). */
import { keysFromEnv, AesGcmCodec, KeyConfigError } from '../security/codec';
import { startCodecServer } from '../security/codec-server';
import { resolveSecret } from '../activities/secrets';
import type { Command } from './commands';
import { EXIT, UsageError, UserError } from './io';

export const codecServerCommand: Command = {
  name: 'codec-server',
  summary: "decrypt payloads for the Temporal Web UI and CLI (Temporal's codec server protocol)",
  usage: `drover codec-server [--port 8888] [--host 127.0.0.1] [--origin URL]... [--token env:NAME|file:PATH]

Serves POST /decode and /encode with the keys of DROVER_ENCRYPTION_KEYS, so the Web UI shows runs'
payloads decrypted: start the dev server with \`drover server --codec-endpoint http://127.0.0.1:8888\`
(or set it in the UI's "Configure data encoder"). Browsers may call it only from each --origin (default
the dev server's UI, http://127.0.0.1:8233 and http://localhost:8233). With --token, a request must carry
"Authorization: Bearer <token>" (the CLI: temporal workflow show --codec-endpoint URL --codec-auth
"Bearer <token>"; the Web UI: its access token when "pass access token" is on). Listens on loopback unless
--host says otherwise: whoever reaches it can read every payload it is sent.`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    origin: { type: 'string', multiple: true },
    token: { type: 'string' },
  },
  allowPositionals: false,
  async run({ values }, io) {
    let keys;
    try {
      keys = keysFromEnv(io.env);
    } catch (e) {
      if (e instanceof KeyConfigError) throw new UserError(e.message);
      throw e;
    }
    if (!keys)
      throw new UserError(
        'DROVER_ENCRYPTION_KEYS is not set: the codec server has no key to decrypt with',
        'set it as the workers have it: DROVER_ENCRYPTION_KEYS=<id>=env:NAME|file:path,...',
      );
    const port = Number((values.port as string | undefined) ?? '8888');
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port ${String(values.port)} is not a port`);
    const tokenRef = values.token as string | undefined;
    if (tokenRef !== undefined && !/^(env|file):./.test(tokenRef))
      throw new UsageError('--token takes a reference, env:NAME or file:PATH, never the token itself');
    let token: string | undefined;
    try {
      token = tokenRef ? resolveSecret(tokenRef, io.env) : undefined;
    } catch (e) {
      throw new UserError(`--token ${tokenRef}: ${(e as Error).message}`);
    }
    const origins = (values.origin as string[] | undefined) ?? ['http://127.0.0.1:8233', 'http://localhost:8233'];
    const { server, url } = await startCodecServer({
      codec: new AesGcmCodec(keys),
      host: (values.host as string | undefined) ?? '127.0.0.1',
      port,
      origins,
      ...(token !== undefined ? { token } : {}),
      log: (line) => io.stderr(`drover codec-server: ${line}\n`),
    });
    io.stderr(
      `drover: codec server on ${url} (keys ${[...keys.keys()].join(', ')}; browsers from ${origins.join(', ')}${token ? '; bearer token required' : ''})\n`,
    );
    await new Promise<void>((done) => {
      const stop = () => server.close(() => done());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return EXIT.ok;
  },
};
