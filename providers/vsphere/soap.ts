/**
 * A small client for the vSphere Web Services API (SOAP, `urn:vim25`), the API vCenter and ESXi speak and
 * govmomi's vcsim implements. It builds the few envelopes Drover needs and parses replies with
 * fast-xml-parser. TLS is always verified: by a pinned SHA-256 thumbprint, a CA file, or (written
 * explicitly in the runbook, and warned about) not at all.
 *
 * Transport is node:https rather than fetch: Node's fetch cannot be given a CA or a pinned certificate per
 * request without the undici package, and pinning is the point here.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { ProviderError } from '../errors';

/** A managed object reference: `<_this type="VirtualMachine">vm-42</_this>`. */
export interface MoRef {
  type: string;
  value: string;
}

/** How the client trusts the server's certificate. */
export type TlsTrust = { thumbprint: string } | { caFile: string } | { insecure: true };
/** No TLS at all: an http:// URL. */
export type Trust = TlsTrust | undefined;

export interface SoapOptions {
  /** `https://host:port/sdk` */
  url: string;
  username: string;
  password: string;
  /** Undefined only for an http:// URL. */
  tls: Trust;
  /** Longest one request may take before the site counts as unreachable. */
  requestTimeoutMs?: number;
}

/** A SOAP fault from the server, by its vim25 type (`InvalidPowerState`, `NotAuthenticated`, ...). */
export class VimFault extends Error {
  override readonly name = 'VimFault';
  constructor(
    readonly faultType: string,
    message: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A value the envelope builder writes: text, a reference, an object with an `xsi:type`, or a list. */
export type Xml = string | number | boolean | undefined | MoRefXml | XmlObject | Xml[];
interface MoRefXml {
  '@_type': string;
  '#text': string;
}
export interface XmlObject {
  [key: string]: Xml;
}

export const ref = (type: string, value: string): MoRefXml => ({ '@_type': type, '#text': value });
/** A polymorphic value: `<spec xsi:type="VirtualMachineCloneSpec">`. */
export const typed = (xsiType: string, fields: XmlObject): XmlObject => ({ '@_xsi:type': xsiType, ...fields });

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false });
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // vcsim (Go) writes quotes as `&#34;`: numeric character references must be decoded like named ones.
  htmlEntities: true,
  // Polymorphic values carry `xsi:type`; vcsim writes the prefix as `XMLSchema-instance:`. One name for both,
  // apart from a MoRef's own (unprefixed) `type`.
  transformAttributeName: (name) => (/^@_[^:]+:type$/.test(name) ? '@_xsi:type' : name),
});

/** Parsed XML: elements by name; repeated elements are arrays; text in `#text` when attributes exist. */
export type Parsed = Record<string, unknown>;

const ENVELOPE_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>';
const ENVELOPE_CLOSE = '</soapenv:Body></soapenv:Envelope>';

export function envelope(method: string, thisRef: MoRef, args: XmlObject): string {
  const body = builder.build({
    [method]: { '@_xmlns': 'urn:vim25', _this: ref(thisRef.type, thisRef.value), ...dropUndefined(args) },
  }) as string;
  return ENVELOPE_OPEN + body + ENVELOPE_CLOSE;
}

/** Unset fields are left out of the envelope (vim25 reads an empty element as a value). */
function dropUndefined(o: XmlObject): XmlObject {
  const out: XmlObject = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = clean(v);
  return out;
}
function clean(v: Xml): Xml {
  if (Array.isArray(v)) return v.map(clean);
  if (v && typeof v === 'object') return dropUndefined(v as XmlObject);
  return v;
}

/** The `returnval` of a reply, or the fault it carries as a VimFault. */
export function parseReply(xml: string, method: string): unknown {
  let doc: Parsed;
  try {
    doc = parser.parse(xml) as Parsed;
  } catch (e) {
    throw new VimFault('InvalidReply', `${method}: the server's reply is not XML (${(e as Error).message})`);
  }
  const env = child(doc, 'Envelope');
  const body = env ? child(env, 'Body') : undefined;
  if (!body) throw new VimFault('InvalidReply', `${method}: the server's reply has no SOAP body`);
  const fault = child(body, 'Fault');
  if (fault) {
    const faultstring = text(fault.faultstring) ?? 'fault';
    const detail = (fault.detail ?? {}) as Parsed;
    const first = Object.entries(detail).find(([k]) => !k.startsWith('@_'));
    const inner = (first?.[1] ?? {}) as Parsed;
    const type = (inner['@_xsi:type'] as string | undefined) ?? first?.[0].replace(/Fault$/, '') ?? 'Fault';
    throw new VimFault(type.replace(/^.*:/, ''), faultstring, typeof inner === 'object' ? inner : {});
  }
  const response = child(body, `${method}Response`);
  if (!response) throw new VimFault('InvalidReply', `${method}: the reply has no ${method}Response`);
  return response.returnval;
}

/** The child element `name`, whatever namespace prefix it has. */
function child(node: Parsed, name: string): Parsed | undefined {
  for (const [k, v] of Object.entries(node)) if (k === name || k.endsWith(`:${name}`)) return v as Parsed;
  return undefined;
}

/** The text of a parsed element (plain string, or `#text` beside attributes). */
export function text(node: unknown): string | undefined {
  if (node === undefined || node === null) return undefined;
  if (typeof node === 'string') return node;
  if (typeof node === 'object' && '#text' in (node as Parsed)) return String((node as Parsed)['#text']);
  return undefined;
}

/** A parsed element as a MoRef. */
export function moRef(node: unknown): MoRef {
  const n = node as Parsed;
  return { type: String(n['@_type']), value: String(n['#text']) };
}

/** Repeated elements come as an array, a single one as an object: always an array. */
export function list<T = Parsed>(node: unknown): T[] {
  if (node === undefined || node === null || node === '') return [];
  return (Array.isArray(node) ? node : [node]) as T[];
}

/** Lowercase hex without separators: `AB:CD:...` and `abcd...` compare equal. */
export function normalizeThumbprint(t: string): string {
  return t.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
}

/** Reads the server's certificate without sending anything (what `openssl s_client` shows). */
export function peerCertificate(url: URL, timeoutMs = 10_000): Promise<X509Certificate> {
  return new Promise((resolvePeer, reject) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const socket = tls.connect({
      host,
      port: Number(url.port || 443),
      ...(isIP(host) ? {} : { servername: host }),
      rejectUnauthorized: false,
      timeout: timeoutMs,
    });
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolvePeer(new X509Certificate(raw));
    });
    socket.once('timeout', () => socket.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)));
    socket.once('error', reject);
  });
}

/**
 * The https.Agent that trusts the server as the runbook says. A thumbprint is checked on a first
 * connection that sends nothing; then the pinned certificate is the only trust anchor, and every
 * connection checks its fingerprint again (the hostname check is replaced by the pin, which is stronger).
 */
export async function agentFor(url: URL, trust: TlsTrust | undefined, timeoutMs = 10_000): Promise<http.Agent> {
  const base = { keepAlive: true, maxSockets: 8 };
  // Plain http:// (vcsim -tls=false, a proxy on the same host): nothing to trust; `validate` warns.
  if (url.protocol === 'http:' || !trust) return new http.Agent(base);
  if ('insecure' in trust) return new https.Agent({ ...base, rejectUnauthorized: false });
  if ('caFile' in trust) {
    let ca: Buffer;
    try {
      ca = readFileSync(trust.caFile);
    } catch (e) {
      throw new ProviderError('InvalidInput', `cannot read caFile ${trust.caFile}: ${(e as Error).message}`);
    }
    return new https.Agent({ ...base, ca });
  }
  const pin = normalizeThumbprint(trust.thumbprint);
  const cert = await peerCertificate(url, timeoutMs).catch((e: Error) => {
    throw unreachable(url, e);
  });
  const seen = normalizeThumbprint(cert.fingerprint256);
  if (seen !== pin) throw thumbprintMismatch(url, trust.thumbprint, cert.fingerprint256);
  return new https.Agent({
    ...base,
    ca: cert.toString(),
    // A pinned leaf signed by a CA (VMCA) is a trust anchor of its own: the chain need not reach a root.
    allowPartialTrustChain: true,
    checkServerIdentity: (_host, peer) =>
      normalizeThumbprint(peer.fingerprint256) === pin
        ? undefined
        : thumbprintMismatch(url, trust.thumbprint, peer.fingerprint256),
  });
}

function thumbprintMismatch(url: URL, wanted: string, seen: string): ProviderError {
  return new ProviderError(
    'CertificateRejected',
    `${url.host} presented a certificate with SHA-256 thumbprint ${seen}, not the ${wanted} the runbook pins: nothing was sent. If the vCenter certificate was replaced on purpose, update \`thumbprint\` (openssl s_client -connect ${url.host} </dev/null | openssl x509 -noout -fingerprint -sha256); otherwise someone may be in the middle`,
  );
}

export function unreachable(url: URL, e: unknown): ProviderError {
  const err = e as NodeJS.ErrnoException & { cause?: unknown };
  const why = err.code ?? (err.cause ? String(err.cause) : err.message);
  return new ProviderError('SiteUnreachable', `vCenter at ${url.host} cannot be reached: ${why}`);
}

/** POSTs one envelope; resolves the status and body. Network trouble is SiteUnreachable (retryable). */
export function post(
  url: URL,
  agent: http.Agent,
  xml: string,
  cookie: string | undefined,
  opts: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<{ status: number; body: string; setCookie: string[] }> {
  return new Promise((resolvePost, reject) => {
    const req = (url.protocol === 'http:' ? http : https).request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'text/xml; charset=utf-8',
          soapaction: 'urn:vim25/6.5',
          ...(cookie ? { cookie } : {}),
        },
        timeout: opts.timeoutMs,
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolvePost({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            setCookie: res.headers['set-cookie'] ?? [],
          }),
        );
        res.on('error', (e) => reject(unreachable(url, e)));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${opts.timeoutMs} ms`), {})));
    req.on('error', (e) => {
      if (opts.signal?.aborted) reject(opts.signal.reason ?? e);
      else if (e instanceof ProviderError) reject(e);
      else reject(unreachable(url, e));
    });
    req.end(xml);
  });
}
