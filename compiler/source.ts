/**
 * The parsed runbook with its source positions, so every later check can point at a line and column.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { Diagnostic, DiagnosticCode, Severity } from './diagnostics';

export type PathSegment = string | number;

export class RunbookSource {
  readonly doc: Document.Parsed;
  readonly data: unknown;
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    this.data = this.doc.toJS({ maxAliasCount: 1000 });
  }

  /** YAML syntax errors, as diagnostics. */
  syntaxDiagnostics(): Diagnostic[] {
    const lines = this.text.split(/\r?\n/);
    const seenLines = new Set<number>();
    const out: Diagnostic[] = [];
    for (const e of this.doc.errors) {
      let { line, col } = this.lines.linePos(e.pos[0]);
      let hint = syntaxHint(e.code);
      const indentOf = (n: number) => (lines[n - 1] ?? '').length - (lines[n - 1] ?? '').trimStart().length;
      // YAML reports an over-indented line at the value above it ("rpo: 15m" swallowing "   rto: 1h");
      // the fix belongs on the over-indented line, so point there.
      const next = lines.findIndex((l, i) => i >= line && l.trim() !== '' && !l.trim().startsWith('#')) + 1;
      if (next > 0 && /^\s*(- )?[\w-]+:\s*\S/.test(lines[line - 1] ?? '') && indentOf(next) > indentOf(line)) {
        hint = `line ${next} is indented more than line ${line}, so YAML reads it as part of the value above: line it up with the keys around it`;
        line = next;
        col = 0;
      }
      // Some indentation errors are reported at the line start; point at the text that is misplaced.
      if (col <= indentOf(line)) col = indentOf(line) + 1;
      if (seenLines.has(line)) continue;
      seenLines.add(line);
      const first = e.message.split('\n')[0] ?? e.message;
      out.push({
        code: 'yaml/syntax',
        severity: 'error',
        file: this.file,
        line,
        column: col,
        path: '',
        message: first.replace(/ at line \d+, column \d+.*$/, ''),
        hint,
      });
    }
    return out;
  }

  /** Line and column (1-based) of the node at `path`; of its key with `key: true`. Falls back to the nearest parent. */
  locate(path: readonly PathSegment[], opts: { key?: boolean } = {}): { line: number; column: number } {
    for (let n = path.length; n >= 0; n--) {
      const offset = this.offsetOf(path.slice(0, n), opts.key === true && n === path.length);
      if (offset !== undefined) {
        const { line, col } = this.lines.linePos(offset);
        return { line, column: col };
      }
    }
    return { line: 1, column: 1 };
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

  private offsetOf(path: readonly PathSegment[], wantKey: boolean): number | undefined {
    let node: unknown = this.doc.contents;
    let keyNode: Node | undefined;
    for (const seg of path) {
      keyNode = undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
        if (!pair) return undefined;
        keyNode = isScalar(pair.key) ? pair.key : undefined;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
      } else {
        return undefined;
      }
      if (node === undefined) return undefined;
    }
    if (wantKey && keyNode?.range) return keyNode.range[0];
    const range = (node as Node | null)?.range;
    if (range) return range[0];
    return keyNode?.range?.[0];
  }
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
