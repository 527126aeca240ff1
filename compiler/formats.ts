/**
 * The string formats `schemas/runbook.schema.json` uses, for ajv (compiler/schema.ts) and for the words
 * of a diagnostic when a value is not of its format.
 *
 * ajv-formats gives `ipv4`, `ipv6` and `hostname` as they are, and its `uri` check under `http-url`. It
 * has no CIDR, no "name or address" and no "either family", so those are defined here from its own
 * validators: an address is checked the same way wherever it appears.
 *
 * References (`env:NAME`, `file:path`) are not formats: where a field accepts one, the schema says
 * `anyOf` of the format and `$defs/reference`, so a format only ever judges the literal form.
 */
import addFormats from 'ajv-formats';
import type { Format } from 'ajv';

/** One of ajv-formats' validators (full mode: a regular expression or a function), as a predicate. */
function standard(name: 'ipv4' | 'ipv6' | 'hostname' | 'uri'): (value: string) => boolean {
  const format: Format = addFormats.get(name, 'full');
  if (format instanceof RegExp) return (value) => format.test(value);
  if (typeof format === 'function') return (value) => (format as (v: string) => unknown)(value) === true;
  throw new Error(`ajv-formats gives no synchronous validator for ${name}`);
}

export const isIPv4 = standard('ipv4');
export const isIPv6 = standard('ipv6');
const isHostname = standard('hostname');
const isUri = standard('uri');

/** `address/length` with the address of the family and the length within 0 to `max`; else undefined. */
function splitPrefix(value: string, isAddress: (a: string) => boolean, max: number) {
  const slash = value.lastIndexOf('/');
  if (slash < 0) return undefined;
  const address = value.slice(0, slash);
  const length = value.slice(slash + 1);
  if (!isAddress(address) || !/^(0|[1-9]\d{0,2})$/.test(length) || Number(length) > max) return undefined;
  return { address, length: Number(length) };
}

/** `10.20.0.15/24`, `fd00:20::15/64`: an address and its prefix length (CIDR notation), or undefined. */
export function parseCidr(value: string): { family: 4 | 6; address: string; length: number } | undefined {
  const v4 = splitPrefix(value, isIPv4, 32);
  if (v4) return { family: 4, ...v4 };
  const v6 = splitPrefix(value, isIPv6, 128);
  return v6 ? { family: 6, ...v6 } : undefined;
}

const isIp = (value: string) => isIPv4(value) || isIPv6(value);

/**
 * A name, as `hostname` (RFC 1123 labels), whose last label is not all digits: a name like
 * `999.999.999.999` is a mistyped IPv4 address, not a host (no top-level domain is numeric, RFC 3696 §2).
 */
const isHostName = (value: string) => isHostname(value) && !/(^|\.)\d+\.?$/.test(value);

/** `{guest}` as a URL's host: replaced by the recovered VM's address when a validation is sent. */
const GUEST = /^(https?:\/\/)\{guest\}(?=[:/?#]|$)/;

/**
 * The formats ajv gets beyond ajv-formats' own, each a predicate on the literal value (references are
 * the schema's business, see above).
 */
export const CUSTOM_FORMATS: Record<string, (value: string) => boolean> = {
  /** IPv4 or IPv6. */
  ip: isIp,
  /** `10.20.0.15/24`: IPv4 address, prefix length 0 to 32. */
  cidr4: (value) => splitPrefix(value, isIPv4, 32) !== undefined,
  /** `fd00:20::15/64`: IPv6 address, prefix length 0 to 128. */
  cidr6: (value) => splitPrefix(value, isIPv6, 128) !== undefined,
  /** An address of either family, with or without its prefix length. */
  'ip-or-cidr': (value) => isIp(value) || parseCidr(value) !== undefined,
  /** What a client connects to: a DNS name or an address of either family (no brackets, no port). */
  host: (value) => isIp(value) || isHostName(value),
  /** An absolute http:// or https:// URL with a host (RFC 3986 as ajv-formats' `uri`); the host may be `{guest}`. */
  'http-url': (value) => {
    const literal = value.replace(GUEST, '$1guest.invalid');
    return /^https?:\/\/[^/?#]/i.test(literal) && isUri(literal);
  },
};

/** The ajv-formats formats the schema uses. */
export const STANDARD_FORMATS = ['ipv4', 'ipv6', 'hostname'] as const;

/** What a value of each format is, in words, with an example (for diagnostics). */
export const FORMAT_WORDS: Record<string, { what: string; example: string }> = {
  ipv4: { what: 'an IPv4 address', example: '`10.20.0.1`' },
  ipv6: { what: 'an IPv6 address', example: '`fd00:20::1`' },
  ip: { what: 'an IP address (IPv4 or IPv6)', example: '`10.20.0.2` or `fd00:20::2`' },
  cidr4: { what: 'an IPv4 address with its prefix length', example: '`10.20.0.15/24`' },
  cidr6: { what: 'an IPv6 address with its prefix length', example: '`fd00:20::15/64`' },
  'ip-or-cidr': {
    what: 'an IP address, with or without its prefix length',
    example: '`10.20.1.11/24`, `10.20.1.11` or `fd00:20::11/64`',
  },
  hostname: { what: 'a DNS name', example: '`corp.example.com`' },
  host: { what: 'a host name or an IP address', example: '`db1.example.com`, `127.0.0.1` or `::1`' },
  'http-url': { what: 'an http:// or https:// URL', example: '`https://hooks.example.com/drover`' },
};

/**
 * Why `value` is not of `format`, when something more precise than "write one like the example" can be
 * said; `path` is where it is (a NIC's `ip` / `ipv6` tells which family goes where).
 */
export function formatReason(format: string, value: string, path: readonly (string | number)[]): string | undefined {
  const [parent, key] = [path[path.length - 2], path[path.length - 1]];
  const family = format === 'cidr4' || format === 'ipv4' ? 4 : format === 'cidr6' || format === 'ipv6' ? 6 : 0;
  const slash = value.lastIndexOf('/');
  const [address, length] = slash < 0 ? [value, undefined] : [value.slice(0, slash), value.slice(slash + 1)];
  if (family !== 0 && (family === 4 ? isIPv6(address) : isIPv4(address)) && (parent === 'ip' || parent === 'ipv6'))
    return `an IPv${family === 4 ? 6 : 4} address goes in \`${family === 4 ? 'ipv6' : 'ip'}:\``;
  const addresses = ['ipv4', 'cidr4', 'ip', 'ip-or-cidr', 'host'];
  if (addresses.includes(format) && /^\d+(\.\d+)+$/.test(address) && !isIPv4(address))
    return `\`${address}\` is not an IPv4 address: four numbers from 0 to 255, e.g. ${format === 'host' ? '`127.0.0.1`' : FORMAT_WORDS[format]!.example}`;
  if (format === 'cidr4' || format === 'cidr6') {
    const max = family === 4 ? 32 : 128;
    const example = FORMAT_WORDS[format]!.example;
    if ((family === 4 ? isIPv4 : isIPv6)(address))
      return length === undefined
        ? `add the prefix length (0 to ${max}) after a \`/\`, e.g. ${example}`
        : `the prefix length is a number from 0 to ${max}, e.g. ${example}`;
    return `write the address and its prefix length (0 to ${max}), e.g. ${example}`;
  }
  if (family !== 0 && length !== undefined)
    return `${key === 'gateway' ? 'the gateway is' : 'write'} a plain IPv${family} address, without \`/length\``;
  if (format === 'ip-or-cidr' && isIp(address) && length !== undefined)
    return 'the prefix length is a number from 0 to 32 (IPv4) or 0 to 128 (IPv6)';
  if ((format === 'ip' || format === 'ip-or-cidr') && isHostName(value))
    return `write an address, not a name, e.g. ${FORMAT_WORDS[format]!.example}`;
  if (format === 'host') {
    if (/^\[.*\]$/.test(value)) return 'write an IPv6 address without brackets, e.g. `::1`';
    if (/^[^:]+:\d+$/.test(value)) return 'give the port in its own key (`port:`), not after the host';
    return 'a name is letters, digits and dashes in labels separated by dots, e.g. `db1.example.com`; or write an IP address';
  }
  if (format === 'http-url' && !/^https?:\/\//i.test(value))
    return `write the whole URL, starting with \`https://\` or \`http://\`, e.g. ${FORMAT_WORDS['http-url']!.example}`;
  return undefined;
}
