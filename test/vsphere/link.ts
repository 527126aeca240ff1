/**
 * The network between a worker and a vCenter, as a loopback TCP relay the tests can break: `down` refuses
 * every connection (an outage), `dropNext` resets the next connection once (a transient fault), `hold`
 * keeps what the worker sends from reaching vCenter for a while (a slow link). TLS passes through
 * untouched: the worker still verifies vCenter's own certificate.
 */
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export class Link {
  private server: Server | undefined;
  private readonly open = new Set<Socket>();
  down = false;
  private dropNext = false;
  private holdNext = 0;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<number> {
    this.server = createServer((client) => this.relay(client));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Cuts every open connection; with `down`, new ones are refused until `up()`. */
  cut(): void {
    for (const s of this.open) s.destroy();
    this.open.clear();
  }

  goDown(): void {
    this.down = true;
    this.cut();
  }

  up(): void {
    this.down = false;
  }

  /** The next connection is reset as it opens; open ones are cut so the next call needs a new one. */
  failNextConnection(): void {
    this.dropNext = true;
    this.cut();
  }

  /**
   * The next connection is slow: for `ms`, what the worker sends on it waits before it reaches vCenter (and
   * is dropped if the worker gives up). Open connections are cut so the next call needs a new one.
   */
  holdNextConnection(ms: number): void {
    this.holdNext = ms;
    this.cut();
  }

  private relay(client: Socket): void {
    if (this.down || this.dropNext) {
      this.dropNext = false;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    this.open.add(client);
    this.open.add(upstream);
    const until = Date.now() + this.holdNext;
    this.holdNext = 0;
    const wait = () => Math.max(0, until - Date.now());
    client.on('data', (d) => {
      const ms = wait();
      if (ms === 0) upstream.write(d);
      else setTimeout(() => !client.destroyed && upstream.write(d), ms);
    });
    upstream.on('data', (d) => client.write(d));
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.open.delete(client);
      this.open.delete(upstream);
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise((r) => this.server?.close(r));
  }
}
