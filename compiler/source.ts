/**
 * The parsed runbook with its source positions, so every later check can point at a line and column.
 *
 * The YAML is parsed by the `yaml` package; its syntax tree is turned into plain data here rather than by
 * `Document.toJS`, because toJS throws on the first alias it cannot resolve (without a position), builds
 * a structure that contains itself from an alias inside its own anchor (which later makes
 * `JSON.stringify` throw), and looks each alias up by scanning every anchor before it (quadratic in the
 * number of aliases). Here every alias is resolved in one pass, each problem becomes a located diagnostic
 * and its value is null, and the values aliases repeat are counted and capped (alias bombs).
 */
import { didYouMean } from './diagnostics';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node, Pair, YAMLMap, YAMLSeq } from 'yaml';
import type { Diagnostic, DiagnosticCode, Severity } from './diagnostics';

export type PathSegment = string | number;

/**
 * The most values aliases may add to a file, beyond the ones written in it: this many, or ten times the
 * values written, whichever is more. Repeating defaults in every workload stays well below it; an alias
 * bomb (aliases of aliases, each multiplying) stops here, and the work after it stays linear in the text.
 */
export const MAX_ALIAS_VALUES = 100_000;
const MAX_ALIAS_RATIO = 10;

/** A problem with the YAML text itself (not with what it says), at an offset. */
interface TextProblem {
  code: 'yaml/syntax' | 'yaml/alias';
  offset: number;
  message: string;
  hint: string;
}

export class RunbookSource {
  readonly doc: Document.Parsed;
  readonly data: unknown;
  private lines = new LineCounter();
  private readonly problems: TextProblem[] = [];
  /** Each alias's value once resolved, so a path through an alias key can be located. */
  private readonly aliasValues = new Map<Node, unknown>();
  /** Per mapping, its pairs by key: built on first lookup, so locating n diagnostics is O(n), not O(n²). */
  private readonly keyIndex = new WeakMap<YAMLMap, Map<string, Pair>>();
  private textLines: string[] | undefined;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    let doc: Document.Parsed;
    try {
      // uniqueKeys: false, because yaml's own check compares each key with every key before it (O(n²) in a
      // mapping of n keys: a minute for a 1.4 MB file of unknown keys); toData checks it in O(n).
      doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: false, logLevel: 'error' });
    } catch (e) {
      // The parser gave up altogether (it does not on any input we know of): report it, read nothing.
      this.problems.push({
        code: 'yaml/syntax',
        offset: 0,
        message: `the file could not be read as YAML: ${e instanceof Error ? e.message : String(e)}`,
        hint: 'see https://yaml.org/spec/1.2.2/ or paste the file into a YAML-aware editor',
      });
      this.lines = new LineCounter();
      doc = parseDocument('', { lineCounter: this.lines });
    }
    this.doc = doc;
    this.data = this.toData();
  }

  /** Problems with the YAML text (syntax, aliases), as diagnostics. */
  syntaxDiagnostics(): Diagnostic[] {
    const lines = this.sourceLines();
    const indentOf = (n: number) => (lines[n - 1] ?? '').length - (lines[n - 1] ?? '').trimStart().length;
    const seenLines = new Set<number>();
    const out: Diagnostic[] = [];
    for (const e of this.doc.errors) {
      let { line, column } = this.position(e.pos[0]);
      let hint = syntaxHint(e.code);
      // YAML reports an over-indented line at the value above it ("rpo: 15m" swallowing "   rto: 1h");
      // the fix belongs on the over-indented line, so point there. Only when the error is in that value:
      // an under-indented key is reported at its own line start, and belongs there.
      const text = lines[line - 1] ?? '';
      const keyed = /^\s*(- )?[\w-]+:\s*\S/.test(text) && column > text.indexOf(':') + 1;
      const next = keyed ? nextContentLine(lines, line) : 0;
      if (next > 0 && indentOf(next) > indentOf(line)) {
        hint = `line ${next} is indented more than line ${line}, so YAML reads it as part of the value above: line it up with the keys around it`;
        line = next;
        column = 0;
      }
      // Some indentation errors are reported at the line start; point at the text that is misplaced.
      if (column <= indentOf(line)) column = indentOf(line) + 1;
      if (seenLines.has(line)) continue;
      seenLines.add(line);
      const first = e.message.split('\n')[0] ?? e.message;
      out.push({
        code: 'yaml/syntax',
        severity: 'error',
        file: this.file,
        line,
        column,
        path: '',
        message: first.replace(/ at line \d+, column \d+.*$/, ''),
        hint,
      });
    }
    for (const p of this.problems) {
      const { line, column } = this.position(p.offset);
      out.push({
        code: p.code,
        severity: 'error',
        file: this.file,
        line,
        column,
        path: '',
        message: p.message,
        hint: p.hint,
      });
    }
    return out;
  }

  /**
   * Where the text stops being trustworthy: undefined without syntax or alias problems. YAML notices some
   * mistakes only after them (an unclosed quote at the end of the file, a mis-indented key when the next
   * key does not line up), and what it recovered around the mistake may be misread. So this is the start
   * of the entry (mapping pair or list item) in which, or just after which, the first problem was found,
   * in the innermost collection that holds it. Everything that ends before it was read as written.
   */
  damageStart(): number | undefined {
    if (this.doc.errors.length === 0 && this.problems.length === 0) return undefined;
    let offset = Infinity;
    for (const e of this.doc.errors) offset = Math.min(offset, e.pos[0]);
    for (const p of this.problems) offset = Math.min(offset, p.offset);
    let start = 0;
    let node: unknown = this.doc.contents;
    while (isMap(node) || isSeq(node)) {
      let last: { start: number; item: unknown } | undefined;
      for (const item of node.items as unknown[]) {
        const s = isPair(item) ? (rangeOf(item.key) ?? rangeOf(item.value))?.[0] : rangeOf(item)?.[0];
        if (s === undefined) continue;
        if (s > offset) break;
        last = { start: s, item };
      }
      if (!last) break;
      start = last.start;
      const inner: unknown[] = isPair(last.item) ? [last.item.key, last.item.value] : [last.item];
      node = inner.find((n) => {
        const r = rangeOf(n);
        return r !== undefined && r[0] <= offset && offset <= r[2];
      });
    }
    return start;
  }

  /** Offset just after the node at `path` (or the nearest parent that exists: a larger span, never smaller). */
  endOf(path: readonly PathSegment[]): number {
    let node: unknown = this.doc.contents;
    let end = rangeOf(node)?.[1] ?? this.text.length;
    for (const seg of path) {
      const next = this.child(node, seg);
      if (next === undefined) break;
      node = next.node;
      const r = rangeOf(node);
      if (r) end = r[1];
      else break;
    }
    return end;
  }

  /** Line and column (1-based) of the node at `path`; of its key with `key: true`. Falls back to the nearest parent. */
  locate(path: readonly PathSegment[], opts: { key?: boolean } = {}): { line: number; column: number } {
    let node: unknown = this.doc.contents;
    let best = rangeOf(node)?.[0];
    for (let i = 0; i < path.length; i++) {
      const next = this.child(node, path[i]!);
      if (next === undefined) break;
      node = next.node;
      const last = i === path.length - 1;
      const at = last && opts.key && next.key ? rangeOf(next.key)?.[0] : undefined;
      const offset = at ?? rangeOf(node)?.[0] ?? rangeOf(next.key)?.[0];
      if (offset !== undefined) best = offset;
    }
    return best === undefined ? { line: 1, column: 1 } : this.position(best);
  }

  /** A diagnostic located at `path`. */
  diagnostic(
    code: DiagnosticCode,
    path: readonly PathSegment[],
    message: string,
    hint?: string,
    opts: { key?: boolean; severity?: Severity } = {},
  ): Diagnostic {
    const { line, column } = this.locate(path, opts);
    const d: Diagnostic = {
      code,
      severity: opts.severity ?? 'error',
      file: this.file,
      line,
      column,
      path: toPointer(path),
      message,
    };
    if (hint) d.hint = hint;
    return d;
  }

  /** 1-based line and column of an offset; never 0, so every diagnostic has a place. */
  private position(offset: number): { line: number; column: number } {
    const { line, col } = this.lines.linePos(Math.max(0, offset));
    return { line: Math.max(1, line), column: Math.max(1, col) };
  }

  private sourceLines(): string[] {
    return (this.textLines ??= this.text.split(/\r?\n/));
  }

  /** The child of a collection node at one path segment, with the key node of a mapping pair. */
  private child(node: unknown, seg: PathSegment): { node: unknown; key?: unknown } | undefined {
    if (isMap(node)) {
      let index = this.keyIndex.get(node);
      if (!index) {
        index = new Map();
        for (const pair of node.items) {
          const k = this.keyString(pair.key);
          if (!index.has(k)) index.set(k, pair);
        }
        this.keyIndex.set(node, index);
      }
      const pair = index.get(String(seg));
      return pair ? { node: pair.value, key: pair.key } : undefined;
    }
    if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      return item === undefined ? undefined : { node: item };
    }
    return undefined;
  }

  /** A mapping key as the data has it (see `keyText`). */
  private keyString(key: unknown): string {
    const value = isScalar(key)
      ? scalarValue(key)
      : isAlias(key)
        ? this.aliasValues.get(key)
        : isMap(key) || isSeq(key)
          ? {}
          : null;
    return this.keyText(key, value);
  }

  /** As `toJS` names keys: a null key is "", a scalar its value as text, a collection key its text as written. */
  private keyText(key: unknown, value: unknown): string {
    if (value === null || value === undefined) return '';
    if (typeof value !== 'object') return String(value);
    const r = rangeOf(key);
    return r ? this.text.slice(r[0], r[1]).trim() : '';
  }

  /**
   * The document as plain data, in one pass over the tree in document order (as YAML reads it: an alias
   * repeats the last value anchored before it). Aliases share the value they repeat, as `toJS` does.
   * An alias that cannot be resolved, or is inside the value it repeats, is a problem and null; when the
   * aliases add more values than the limit (MAX_ALIAS_VALUES), that is a problem and every alias is null.
   */
  private toData(): unknown {
    const first = this.convert(true);
    const limit = Math.max(MAX_ALIAS_VALUES, MAX_ALIAS_RATIO * first.written);
    if (first.added <= limit) return first.value;
    const worst = first.largest!;
    this.problems.push({
      code: 'yaml/alias',
      offset: worst.offset,
      message: `the aliases in this file repeat ${count(first.added)} values, over the limit of ${count(limit)} (here *${worst.name} alone repeats ${count(worst.size)}): aliases of aliases multiply, as in an alias bomb`,
      hint: `write the repeated parts out, or repeat fewer or smaller values: aliases may add ${count(MAX_ALIAS_VALUES)} values, or ${MAX_ALIAS_RATIO} times the values written, whichever is more`,
    });
    this.aliasValues.clear();
    return this.convert(false).value;
  }

  /** One pass over the tree (see toData): the data, how many values are written and how many aliases add. */
  private convert(resolveAliases: boolean): {
    value: unknown;
    written: number;
    added: number;
    largest?: { name: string; offset: number; size: number };
  } {
    const walk: Walk = {
      resolveAliases,
      anchors: new Map(),
      anchorAt: new Map(),
      done: new Map(),
      open: new Set(),
      unresolved: [],
      written: 0,
      stack: [],
      result: { value: null, size: 0 },
    };
    const root = this.doc.contents;
    if (root !== null && root !== undefined) {
      const leaf = this.enter(walk, root);
      if (leaf) this.attach(walk, leaf);
      while (walk.stack.length) this.visitNext(walk, walk.stack[walk.stack.length - 1]!);
    }
    this.reportUnresolved(walk);
    return {
      value: walk.result.value,
      written: walk.written,
      added: Math.max(0, walk.result.size - walk.written),
      ...(walk.largest ? { largest: walk.largest } : {}),
    };
  }

  /** The next child of the innermost open collection, or the collection itself once it has no more. */
  private visitNext(walk: Walk, top: Frame): void {
    const items = top.items;
    const total = top.mapping ? items.length * 2 : items.length;
    if (top.next >= total) {
      walk.stack.pop();
      walk.open.delete(top.node);
      const r = { value: top.value, size: top.size };
      if (typeof (top.node as { anchor?: unknown }).anchor === 'string') walk.done.set(top.node, r);
      this.attach(walk, r);
      return;
    }
    const i = top.next++;
    const child = top.mapping ? (items[i >> 1] as Pair)[(i & 1) === 0 ? 'key' : 'value'] : items[i];
    if (child === null || child === undefined) {
      walk.written++;
      this.attach(walk, { value: null, size: 1 });
      return;
    }
    const r = this.enter(walk, child);
    if (r) this.attach(walk, r);
  }

  /** Converts a leaf (scalar or alias), or opens a collection (pushes a frame); returns the leaf's result. */
  private enter(walk: Walk, node: unknown): Converted | undefined {
    walk.written++;
    const anchor = (node as { anchor?: unknown } | null)?.anchor;
    if (typeof anchor === 'string' && anchor !== '') {
      walk.anchors.set(anchor, node as Node);
      if (!walk.anchorAt.has(anchor)) walk.anchorAt.set(anchor, rangeOf(node)?.[0] ?? 0);
    }
    if (isMap(node) || isSeq(node) || isPair(node)) {
      openCollection(walk, node);
      return undefined;
    }
    if (isAlias(node)) return this.alias(walk, node);
    const leaf = { value: scalarValue(node), size: 1 };
    if (typeof anchor === 'string') walk.done.set(node, leaf);
    return leaf;
  }

  /** The value an alias repeats (shared, as in `toJS`), or null with a problem when it cannot repeat one. */
  private alias(walk: Walk, node: Node & { source: string }): Converted {
    const offset = rangeOf(node)?.[0] ?? 0;
    const name = node.source;
    if (!walk.resolveAliases || name === '') return { value: null, size: 1 }; // an empty alias is a syntax error
    const target = walk.anchors.get(name);
    if (target === undefined) {
      walk.unresolved.push({ name, offset });
      return { value: null, size: 1 };
    }
    if (walk.open.has(target)) {
      this.problems.push({
        code: 'yaml/alias',
        offset,
        message: `the alias *${name} is inside the value marked &${name} (line ${this.position(rangeOf(target)?.[0] ?? 0).line}), so that value would contain itself without end`,
        hint: `an alias can only repeat a value written before it and outside it: mark a smaller part with &${name}, or write this value out`,
      });
      return { value: null, size: 1 };
    }
    const t = walk.done.get(target) ?? { value: null, size: 1 };
    this.aliasValues.set(node, t.value);
    if (!walk.largest || t.size > walk.largest.size) walk.largest = { name, offset, size: t.size };
    return t;
  }

  /** A converted child into its collection (a list item, a mapping key, or its value), or as the result. */
  private attach(walk: Walk, r: Converted): void {
    const top = walk.stack[walk.stack.length - 1];
    if (!top) {
      walk.result = r;
      return;
    }
    top.size += r.size;
    if (Array.isArray(top.value)) top.value.push(r.value);
    else if (top.key === undefined) this.attachKey(walk, top, r);
    else {
      setOwn(top.value, top.key, r.value);
      top.key = undefined;
    }
  }

  /** A mapping's key, noted for the value that follows; a key the mapping already has is a problem. */
  private attachKey(walk: Walk, top: Frame, r: Converted): void {
    const keyNode = (top.items[(top.next - 1) >> 1] as Pair).key;
    const key = (top.key = this.keyText(keyNode, r.value));
    const offset = rangeOf(keyNode)?.[0] ?? rangeOf(top.node)?.[0] ?? 0;
    const first = top.keysAt!.get(key);
    if (first === undefined) top.keysAt!.set(key, offset);
    else if (walk.resolveAliases) {
      this.problems.push({
        code: 'yaml/syntax',
        offset,
        message: `Map keys must be unique: "${key}" is already a key of this mapping, at line ${this.position(first).line}`,
        hint: syntaxHint('DUPLICATE_KEY'),
      });
    }
  }

  /** Each alias without an anchor before it, as a problem: no such anchor (did you mean), or one only after it. */
  private reportUnresolved(walk: Walk): void {
    for (const u of walk.unresolved) {
      const later = walk.anchorAt.get(u.name);
      const guess = later === undefined ? didYouMean(u.name, walk.anchorAt.keys()) : undefined;
      this.problems.push({
        code: 'yaml/alias',
        offset: u.offset,
        message:
          later === undefined
            ? `the alias *${u.name} refers to no anchor: nothing in this file is marked &${u.name}`
            : `the alias *${u.name} comes before its anchor &${u.name} (line ${this.position(later).line}): YAML reads top to bottom, so here it repeats nothing`,
        hint:
          later !== undefined
            ? `move the value marked &${u.name} above its first use, or write the value here instead of *${u.name}`
            : guess !== undefined
              ? `did you mean *${guess}, the value marked &${guess} at line ${this.position(walk.anchorAt.get(guess)!).line}?`
              : `mark the value to repeat with &${u.name} where it is first written, or write the value here`,
      });
    }
  }
}

/** A node converted to data, and its size: the values in its full expansion (aliases counted out). */
interface Converted {
  value: unknown;
  size: number;
}

/** A collection being converted. */
interface Frame {
  node: unknown;
  /** Mapping pairs, or list items. */
  items: unknown[];
  mapping: boolean;
  value: unknown[] | Record<string, unknown>;
  /** For a mapping: where each key was first written, to report a duplicate. */
  keysAt?: Map<string, number>;
  size: number;
  /** Next child to visit: for a mapping, 2 × pair + (0 key, 1 value). */
  next: number;
  /** For a mapping: the key whose value comes next. */
  key?: string;
}

/** The state of one conversion pass (RunbookSource.convert). */
interface Walk {
  /** False on the second pass, after too many alias values: every alias is then null. */
  resolveAliases: boolean;
  /** Anchor name → the node it marks last, so far in document order. */
  anchors: Map<string, Node>;
  /** Every anchor's first offset, to tell "defined later" from "not defined". */
  anchorAt: Map<string, number>;
  /** Converted value and size (values in its full expansion) of each finished node. */
  done: Map<unknown, Converted>;
  /** Collections being converted: an alias of one would be inside its own value. */
  open: Set<unknown>;
  unresolved: { name: string; offset: number }[];
  /** Nodes written in the text (each empty child counts as one). */
  written: number;
  /** The alias that repeats the most values. */
  largest?: { name: string; offset: number; size: number };
  /** The open collections, innermost last. */
  stack: Frame[];
  /** The root's conversion, once done. */
  result: Converted;
}

/** Pushes a frame for a mapping or a list; a pair as a list item (`[a: 1]`) is a mapping of one pair, as in `toJS`. */
function openCollection(walk: Walk, node: YAMLMap | YAMLSeq | Pair): void {
  const mapping = !isSeq(node);
  const items = isPair(node) ? [node] : (node.items as unknown[]);
  walk.open.add(node);
  walk.stack.push({
    node,
    items,
    mapping,
    value: mapping ? {} : [],
    ...(mapping ? { keysAt: new Map<string, number>() } : {}),
    size: 1,
    next: 0,
  });
}

/** `__proto__`, `toString` and the like become own keys, never the object's prototype or methods. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key in target)
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/**
 * A scalar's value as data. The runbook language is JSON data: a `!!binary` or `!!timestamp` value (a
 * Buffer or a Date to toJS) is read as the text written; a big integer as a number, as toJS does.
 */
function scalarValue(node: unknown): unknown {
  if (!isScalar(node)) return null;
  const v = node.value;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'object' && v !== null) return typeof node.source === 'string' ? node.source : null;
  return v === undefined ? null : v;
}

function rangeOf(node: unknown): [number, number, number] | undefined {
  const r = (node as { range?: [number, number, number] | null } | null | undefined)?.range;
  return r ?? undefined;
}

/** The next line after `line` (1-based) with content that is not a comment, or 0. */
function nextContentLine(lines: readonly string[], line: number): number {
  for (let i = line; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t !== '' && !t.startsWith('#')) return i + 1;
  }
  return 0;
}

function count(n: number): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : 'more than 10^308';
}

export function toPointer(path: readonly PathSegment[]): string {
  return path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

export function fromPointer(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function syntaxHint(code: string): string {
  switch (code) {
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
      return 'check the indentation: keys of one mapping line up, and list items (`- `) are indented under their key';
    case 'DUPLICATE_KEY':
      return 'a mapping may have each key once: remove or rename one of them';
    case 'TAB_AS_INDENT':
      return 'YAML indents with spaces, not tabs';
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return 'a key must fit on one line: check for a missing `:` or a missing closing quote';
    default:
      return 'see https://yaml.org/spec/1.2.2/ or paste the file into a YAML-aware editor';
  }
}
