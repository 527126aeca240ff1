/**
 * A vCenter session: login with the session cookie (again when it expires), properties with
 * RetrievePropertiesEx, and waits with WaitForUpdatesEx on a property collector of its own (tasks, power
 * state, guest heartbeat: the server says when something changed, nothing polls).
 */
import type http from 'node:http';
import { ProviderError } from '../errors';
import type { MoRef, Parsed, SoapOptions, Xml, XmlObject } from './soap';
import { agentFor, envelope, list, moRef, parseReply, post, ref, text, typed, unreachable, VimFault } from './soap';

export interface ServiceContent {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  searchIndex: MoRef;
  sessionManager: MoRef;
  viewManager: MoRef;
  eventManager?: MoRef;
  about: { fullName: string; apiVersion: string; instanceUuid: string };
}

/** A property change seen by a wait, by path. */
export type Props = Record<string, unknown>;

export class VimClient {
  readonly url: URL;
  private agent: Promise<http.Agent> | undefined;
  private cookie: string | undefined;
  private login: Promise<void> | undefined;
  private content: ServiceContent | undefined;
  /** Calls made, by method: tests count real operations with it. */
  readonly calls = new Map<string, number>();

  constructor(readonly opts: SoapOptions) {
    this.url = new URL(opts.url);
  }

  private get maxWaitSeconds(): number {
    return Math.max(1, Math.min(5, Math.floor((this.opts.requestTimeoutMs ?? 60_000) / 2000)));
  }

  /** Calls `method` on `thisRef`; logs in first, and once more if the session expired. */
  async call(method: string, thisRef: MoRef, args: XmlObject = {}, signal?: AbortSignal): Promise<unknown> {
    await this.ensureLogin(signal);
    try {
      return await this.raw(method, thisRef, args, signal);
    } catch (e) {
      if (!(e instanceof VimFault) || e.faultType !== 'NotAuthenticated') throw e;
      this.cookie = undefined;
      this.login = undefined;
      await this.ensureLogin(signal);
      return this.raw(method, thisRef, args, signal);
    }
  }

  async serviceContent(signal?: AbortSignal): Promise<ServiceContent> {
    if (this.content) return this.content;
    const r = (await this.raw(
      'RetrieveServiceContent',
      { type: 'ServiceInstance', value: 'ServiceInstance' },
      {},
      signal,
    )) as Parsed;
    const about = r.about as Parsed;
    this.content = {
      rootFolder: moRef(r.rootFolder),
      propertyCollector: moRef(r.propertyCollector),
      searchIndex: moRef(r.searchIndex),
      sessionManager: moRef(r.sessionManager),
      viewManager: moRef(r.viewManager),
      ...(r.eventManager ? { eventManager: moRef(r.eventManager) } : {}),
      about: {
        fullName: text(about.fullName) ?? '',
        apiVersion: text(about.apiVersion) ?? '',
        instanceUuid: text(about.instanceUuid) ?? '',
      },
    };
    return this.content;
  }

  private ensureLogin(signal?: AbortSignal): Promise<void> {
    this.login ??= this.doLogin(signal).catch((e: unknown) => {
      this.login = undefined;
      throw e;
    });
    return this.login;
  }

  private async doLogin(signal?: AbortSignal): Promise<void> {
    const sc = await this.serviceContent(signal);
    try {
      await this.raw(
        'Login',
        sc.sessionManager,
        { userName: this.opts.username, password: this.opts.password, locale: 'en_US' },
        signal,
      );
    } catch (e) {
      if (e instanceof VimFault && e.faultType === 'InvalidLogin')
        throw new ProviderError(
          'AuthenticationFailed',
          `vCenter at ${this.url.host} refused the credentials of ${this.opts.username}: check the site's username and password references`,
        );
      throw e;
    }
    if (!this.cookie) throw new VimFault('InvalidReply', `vCenter at ${this.url.host} gave no session cookie`);
  }

  private async raw(method: string, thisRef: MoRef, args: XmlObject, signal?: AbortSignal): Promise<unknown> {
    this.agent ??= agentFor(this.url, this.opts.tls, this.opts.requestTimeoutMs).catch((e: unknown) => {
      this.agent = undefined;
      throw e;
    });
    const agent = await this.agent;
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    const res = await post(this.url, agent, envelope(method, thisRef, args), this.cookie, {
      timeoutMs: this.opts.requestTimeoutMs ?? 60_000,
      signal,
    });
    for (const c of res.setCookie) {
      const m = /^(vmware_soap_session=[^;]*)/.exec(c);
      if (m) this.cookie = m[1];
    }
    if (res.status >= 500 && !res.body.includes('Fault>'))
      throw unreachable(this.url, new Error(`HTTP ${res.status} from the SDK endpoint`));
    return parseReply(res.body, method);
  }

  /** Properties of one object, by path; a property that is unset is absent. */
  async props(obj: MoRef, paths: string[], signal?: AbortSignal): Promise<Props> {
    const sc = await this.serviceContent(signal);
    const r = (await this.call(
      'RetrievePropertiesEx',
      sc.propertyCollector,
      {
        specSet: {
          propSet: { type: obj.type, pathSet: paths },
          objectSet: { obj: ref(obj.type, obj.value) },
        },
        options: {},
      },
      signal,
    )) as Parsed | undefined;
    const out: Props = {};
    for (const o of list(r?.objects)) for (const p of list(o.propSet)) out[String(p.name)] = p.val;
    return out;
  }

  /** Every object of a type under the root folder, with the given properties (a container view). */
  async listObjects(type: string, paths: string[], signal?: AbortSignal): Promise<{ ref: MoRef; props: Props }[]> {
    const sc = await this.serviceContent(signal);
    const view = moRef(
      await this.call(
        'CreateContainerView',
        sc.viewManager,
        { container: ref(sc.rootFolder.type, sc.rootFolder.value), type: [type], recursive: true },
        signal,
      ),
    );
    try {
      const r = (await this.call(
        'RetrievePropertiesEx',
        sc.propertyCollector,
        {
          specSet: {
            propSet: { type, pathSet: paths },
            objectSet: {
              obj: ref(view.type, view.value),
              skip: true,
              selectSet: typed('TraversalSpec', { name: 'view', type: 'ContainerView', path: 'view', skip: false }),
            },
          },
          options: {},
        },
        signal,
      )) as Parsed | undefined;
      return list(r?.objects).map((o) => {
        const props: Props = {};
        for (const p of list(o.propSet)) props[String(p.name)] = p.val;
        return { ref: moRef(o.obj), props };
      });
    } finally {
      await this.call('DestroyView', view).catch(() => undefined);
    }
  }

  /** An object by inventory path (`DC0/vm/web-01`), or undefined. */
  async find(path: string, signal?: AbortSignal): Promise<MoRef | undefined> {
    const sc = await this.serviceContent(signal);
    const r = await this.call('FindByInventoryPath', sc.searchIndex, { inventoryPath: path }, signal);
    return r ? moRef(r) : undefined;
  }

  /**
   * Waits until `done` holds for the object's properties, following changes with WaitForUpdatesEx on a
   * property collector of its own (so concurrent waits do not take each other's updates).
   */
  async waitFor<T>(
    obj: MoRef,
    paths: string[],
    done: (props: Props) => T | undefined,
    opts: { signal?: AbortSignal | undefined; heartbeat?: () => void },
  ): Promise<T> {
    const sc = await this.serviceContent(opts.signal);
    const pc = moRef(await this.call('CreatePropertyCollector', sc.propertyCollector, {}, opts.signal));
    try {
      await this.call(
        'CreateFilter',
        pc,
        {
          spec: { propSet: { type: obj.type, pathSet: paths }, objectSet: { obj: ref(obj.type, obj.value) } },
          partialUpdates: false,
        },
        opts.signal,
      );
      const props: Props = {};
      let version = '';
      for (;;) {
        const r = (await this.call(
          'WaitForUpdatesEx',
          pc,
          // The server holds the call until something changes, at most this long: within the request timeout.
          { version, options: { maxWaitSeconds: this.maxWaitSeconds } },
          opts.signal,
        )) as Parsed | undefined;
        opts.heartbeat?.();
        if (r) {
          version = text(r.version) ?? version;
          for (const f of list(r.filterSet))
            for (const o of list(f.objectSet))
              for (const c of list(o.changeSet)) {
                if (text(c.op) === 'remove') delete props[String(c.name)];
                else props[String(c.name)] = c.val;
              }
        }
        const result = done(props);
        if (result !== undefined) return result;
      }
    } finally {
      await this.call('DestroyPropertyCollector', pc).catch(() => undefined);
    }
  }

  /** Waits for a task to finish: its result, or its fault as a VimFault. */
  async waitTask(task: MoRef, opts: { signal?: AbortSignal | undefined; heartbeat?: () => void }): Promise<unknown> {
    return this.waitFor(
      task,
      ['info.state', 'info.error', 'info.result'],
      (p) => {
        const state = text(p['info.state']);
        if (state === 'success') return { result: p['info.result'] };
        if (state === 'error') {
          const err = (p['info.error'] ?? {}) as Parsed;
          const fault = (err.fault ?? {}) as Parsed;
          const type = String(fault['@_xsi:type'] ?? 'TaskFailed').replace(/^.*:/, '');
          throw new VimFault(type, text(err.localizedMessage) || type, fault);
        }
        return undefined;
      },
      opts,
    ).then((r) => r.result);
  }

  /** Runs a `*_Task` method and waits for it. */
  async task(
    method: string,
    thisRef: MoRef,
    args: XmlObject,
    opts: { signal?: AbortSignal | undefined; heartbeat?: () => void },
  ): Promise<unknown> {
    const t = moRef(await this.call(method, thisRef, args, opts.signal));
    return this.waitTask(t, opts);
  }

  async logout(): Promise<void> {
    if (!this.cookie) return;
    const sc = await this.serviceContent();
    await this.raw('Logout', sc.sessionManager, {}).catch(() => undefined);
    this.cookie = undefined;
    this.login = undefined;
  }

  /** Closes the keep-alive connections (tests, shutdown). */
  async close(): Promise<void> {
    await this.logout().catch(() => undefined);
    const agent = await this.agent?.catch(() => undefined);
    agent?.destroy();
    this.agent = undefined;
  }
}

export type { Xml };
