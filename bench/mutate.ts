/**
 * Mutations of runbook text, shared by the compiler's property tests (test/compiler/property.test.ts) and
 * `npm run fuzz` (bench/fuzz.ts): token edits a person or a bad merge makes, and hostile inputs (alias
 * bombs, deep nesting, huge numbers and strings, binary junk) an attacker or a broken tool produces.
 */

/** Pieces of YAML, runbook keys and awkward values: what a person (or a bad merge) puts in a runbook. */
export const TOKENS = [
  '\n',
  '  ',
  ' ',
  '- ',
  ': ',
  ':',
  '[',
  ']',
  '{',
  '}',
  ', ',
  '"',
  "'",
  '#',
  '? ',
  '|',
  '>',
  '\t',
  '---\n',
  '...\n',
  '&a ',
  '*a',
  '&b ',
  '*b',
  '[]',
  '{}',
  'null',
  '~',
  '0',
  '-1',
  '1e999',
  'true',
  '!!str ',
  '!!binary ',
  '<<: ',
  '%YAML 1.1\n',
  'name',
  'groups',
  'workloads',
  'dependsOn',
  'steps',
  'retry',
  'maxInterval: 1s',
  'initialInterval: 5m',
  'nonRetryableErrors: [StorageFul]',
  'priority',
  'start',
  'done',
  'restore',
  'toString',
  '__proto__',
  'constructor',
  '{toString: 1}',
  '15m',
  '\u00a0',
  '\ufeff',
  '\r\n',
];

/** One edit of a text: at a position taken modulo the text's length (or line count), so any edit applies. */
export type Edit =
  | { kind: 'flip'; at: number; token: string }
  | { kind: 'insert'; at: number; token: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'delete-line' | 'duplicate-line' | 'indent-line' | 'dedent-line'; line: number }
  | { kind: 'replace-value'; line: number; token: string };

export function apply(text: string, e: Edit): string {
  const at = (n: number) => (text.length === 0 ? 0 : n % text.length);
  if (e.kind === 'insert') return text.slice(0, at(e.at)) + e.token + text.slice(at(e.at));
  if (e.kind === 'flip') return text.slice(0, at(e.at)) + e.token + text.slice(at(e.at) + 1);
  if (e.kind === 'delete') return text.slice(0, at(e.at)) + text.slice(at(e.at) + e.length);
  const lines = text.split('\n');
  const i = e.line % lines.length;
  const line = lines[i]!;
  switch (e.kind) {
    case 'delete-line':
      lines.splice(i, 1);
      break;
    case 'duplicate-line':
      lines.splice(i, 0, line);
      break;
    case 'indent-line':
      lines[i] = `  ${line}`;
      break;
    case 'dedent-line':
      lines[i] = line.replace(/^ {1,2}/, '');
      break;
    case 'replace-value': {
      // `key: value` → `key: <token>`; a list item `- value` → `- <token>`.
      const m = /^(\s*(?:- )?[\w-]+:)/.exec(line) ?? /^(\s*-)/.exec(line);
      lines[i] = m ? `${m[1]} ${e.token}` : line;
      break;
    }
  }
  return lines.join('\n');
}

/** A seeded pseudo-random source (mulberry32): the same seed gives the same campaign. */
export class Rng {
  constructor(private state: number) {}
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

/** What the hostile mutators make of a text; `kind` names it in the campaign's figures. */
export interface Mutant {
  kind: string;
  text: string;
}

const HOSTILE: Record<string, (text: string, r: Rng) => string> = {
  /** A random byte replaced by any byte (a broken editor, a bad encoding). */
  'byte-flip': (t, r) => {
    const at = r.int(Math.max(1, t.length));
    return t.slice(0, at) + String.fromCharCode(r.int(256)) + t.slice(at + 1);
  },
  /** A run of bytes deleted (a truncated write). */
  deletion: (t, r) => {
    const at = r.int(Math.max(1, t.length));
    return t.slice(0, at) + t.slice(at + 1 + r.int(200));
  },
  /** The file cut short anywhere. */
  truncation: (t, r) => t.slice(0, r.int(t.length + 1)),
  /** Billion laughs: aliases of aliases, each level ten times the one before. */
  'alias-bomb': (t, r) => {
    const levels = 3 + r.int(7);
    const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i <= levels; i++)
      lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
    return r.int(2) ? `${lines.join('\n')}\n${t}` : `${t}\nbomb:\n  ${lines.join('\n  ')}\n  use: *a${levels}`;
  },
  /** Flow collections nested thousands deep (a stack overflow in a recursive reader). */
  'deep-nesting': (t, r) => {
    const depth = 1000 + r.int(20_000);
    const open = r.int(2) ? '[' : '{a: ';
    const close = open === '[' ? ']' : '}';
    return `${t}\ndeep: ${open.repeat(depth)}1${close.repeat(depth)}\n`;
  },
  /** Block mappings nested deep by indentation. */
  'deep-indent': (t, r) => {
    const depth = 200 + r.int(2000);
    return `${t}\n${Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} 1\n`;
  },
  /** A value replaced by a huge number (beyond doubles, negative zero, NaN-like). */
  'huge-number': (t, r) =>
    replaceValue(
      t,
      r,
      r.pick([
        '1e999',
        '-1e999',
        '9'.repeat(400),
        '-0',
        '.nan',
        '.inf',
        '0x' + 'f'.repeat(80),
        '1' + '0'.repeat(30) + 's',
      ]),
    ),
  /** A value replaced by a huge string (megabytes, or a very long single line). */
  'huge-string': (t, r) => replaceValue(t, r, `"${'x'.repeat(100_000 + r.int(2_000_000))}"`),
  /** A very long key or a key repeated many times (duplicate-key checks). */
  'many-keys': (t, r) =>
    `${t}\nflood:\n${Array.from({ length: 5000 + r.int(50_000) }, (_, i) => `  k${r.int(2) ? i : 0}: ${i}`).join('\n')}\n`,
  /** Random bytes, alone or in the middle of the file. */
  'binary-junk': (t, r) => {
    const junk = Array.from({ length: 1 + r.int(4096) }, () => String.fromCharCode(r.int(256))).join('');
    const at = r.int(t.length + 1);
    return r.int(3) === 0 ? junk : t.slice(0, at) + junk + t.slice(at);
  },
};

/** `key: value` on a random line → `key: <value>`. */
function replaceValue(t: string, r: Rng, value: string): string {
  const lines = t.split('\n');
  const candidates = lines.map((l, i) => (/^\s*(- )?[\w-]+: \S/.test(l) ? i : -1)).filter((i) => i >= 0);
  if (candidates.length === 0) return `${t}\nvalue: ${value}\n`;
  const i = r.pick(candidates);
  lines[i] = lines[i]!.replace(/^(\s*(?:- )?[\w-]+:) .*$/, `$1 ${value}`);
  return lines.join('\n');
}

export const HOSTILE_KINDS = Object.keys(HOSTILE);

/** One mutant of `text`: one to three token edits (as the property tests make), or one hostile mutation. */
export function mutate(text: string, r: Rng): Mutant {
  if (r.int(3) === 0) {
    const edits = 1 + r.int(3);
    let out = text;
    for (let i = 0; i < edits; i++) {
      const kinds = [
        'flip',
        'insert',
        'delete',
        'delete-line',
        'duplicate-line',
        'indent-line',
        'dedent-line',
        'replace-value',
      ] as const;
      const kind = r.pick(kinds);
      const e: Edit =
        kind === 'flip' || kind === 'insert'
          ? { kind, at: r.int(1 << 30), token: r.pick(TOKENS) }
          : kind === 'delete'
            ? { kind, at: r.int(1 << 30), length: 1 + r.int(40) }
            : kind === 'replace-value'
              ? { kind, line: r.int(1 << 30), token: r.pick(TOKENS) }
              : { kind, line: r.int(1 << 30) };
      out = apply(out, e);
    }
    return { kind: 'token-edits', text: out };
  }
  const kind = r.pick(HOSTILE_KINDS);
  return { kind, text: HOSTILE[kind]!(text, r) };
}
