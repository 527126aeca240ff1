/** `drover codec-server`: decrypts payloads for the Temporal Web UI and CLI (security/codec-server.ts). */
import { keysFromEnv, AesGcmCodec, KeyConfigError } from '../security/codec';
import { startCodecServer } from '../security/codec-server';
import { resolveSecret } from '../activities/secrets';
import { command } from './commands';
import { EXIT, UsageError, UserError } from './io';

export const codecServerCommand = command({
  name: 'codec-server',
  summary: "decrypt payloads for the Temporal Web UI and CLI (Temporal's codec server protocol)",
  details: `Serves POST /decode and /encode with the keys of DROVER_ENCRYPTION_KEYS, so the Web UI shows runs'
payloads decrypted: start the dev server with \`drover server --codec-endpoint http://127.0.0.1:8888\`
(or set it in the UI's "Configure data encoder"). Browsers may call it only from each --origin (default
the dev server's UI, http://127.0.0.1:8233 and http://localhost:8233). With --token, a request must carry
"Authorization: Bearer <token>" (the CLI: temporal workflow show --codec-endpoint URL --codec-auth
"Bearer <token>"; the Web UI: its access token when "pass access token" is on). Listens on loopback unless
--host says otherwise: whoever reaches it can read every payload it is sent.`,
  options: {
    port: { value: 'port', help: 'the port to listen on (default 8888)' },
    host: { value: 'host', help: 'the address to listen on (default 127.0.0.1)' },
    origin: { value: 'url', multiple: true, help: 'a browser origin allowed to call it (repeatable)' },
    token: { value: 'env:NAME|file:PATH', help: 'require this bearer token (a reference, never the token itself)' },
  },
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
    const port = Number(values.port ?? '8888');
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port ${String(values.port)} is not a port`);
    const tokenRef = values.token;
    if (tokenRef !== undefined && !/^(env|file):./.test(tokenRef))
      throw new UsageError('--token takes a reference, env:NAME or file:PATH, never the token itself');
    let token: string | undefined;
    try {
      token = tokenRef ? resolveSecret(tokenRef, io.env) : undefined;
    } catch (e) {
      throw new UserError(`--token ${tokenRef}: ${(e as Error).message}`);
    }
    const origins = values.origin ?? ['http://127.0.0.1:8233', 'http://localhost:8233'];
    const { server, url } = await startCodecServer({
      codec: new AesGcmCodec(keys),
      host: values.host ?? '127.0.0.1',
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
});
