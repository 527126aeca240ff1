/**
 * Structural validation against `schemas/runbook.schema.json` (JSON Schema 2020-12), with ajv reporting
 * every error, each turned into a located diagnostic a person can act on. String formats (addresses,
 * hosts, URLs) come from ajv-formats and compiler/formats.ts.
 */
import Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import schema from '../schemas/runbook.schema.json';
import scenarioSchema from '../schemas/scenario.schema.json';
import { didYouMean } from './diagnostics';
import type { Diagnostic } from './diagnostics';
import { CUSTOM_FORMATS, FORMAT_WORDS, formatReason, STANDARD_FORMATS } from './formats';
import { fromPointer } from './source';
import type { RunbookSource } from './source';

export const runbookSchema = schema;

const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true });
addFormats(ajv, { mode: 'full', formats: [...STANDARD_FORMATS], keywords: false });
for (const [name, validate] of Object.entries(CUSTOM_FORMATS)) ajv.addFormat(name, { type: 'string', validate });
const validateRunbook = ajv.compile(inlineLocalRefs(schema));
const validateScenario = ajv.compile(scenarioSchema);

/**
 * The schema with each local `$ref` (`#/$defs/...`) replaced by a copy of what it names, marked
 * `$comment: '<the ref>'` (so a diagnostic still knows a duration from a name), its own `description`
 * kept. Why: ajv compiles a `$ref` that contains further refs as a function of its own, and with
 * `allErrors` it joins that function's errors to the ones so far with `concat`, copying them all each
 * time; with thousands of workloads each in error that was quadratic (30 s for a 1.4 MB file). Inlined,
 * every error is pushed once. A ref inside its own target (recursion) is left as it is.
 */
export function inlineLocalRefs<T>(root: T): T {
  const defs = (root as { $defs?: Record<string, unknown> }).$defs ?? {};
  const resolving = new Set<string>();
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const { $ref, ...rest } = node as Record<string, unknown>;
    const copy = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, walk(v)]));
    const target = typeof $ref === 'string' && $ref.startsWith('#/$defs/') ? defs[$ref.slice(8)] : undefined;
    if (typeof $ref !== 'string') return copy;
    if (target === undefined || resolving.has($ref) || typeof target !== 'object') return { $ref, ...copy };
    resolving.add($ref);
    const inlined = walk(target) as Record<string, unknown>;
    resolving.delete($ref);
    return { ...inlined, ...copy, $comment: $ref };
  };
  const { $defs, ...rest } = root as Record<string, unknown>;
  return { ...(walk(rest) as object), ...($defs ? { $defs } : {}) } as T;
}

/** The `$defs` entry a schema error comes from, whether inlined (see inlineLocalRefs) or referenced. */
function definitionOf(e: ErrorObject): string {
  const marker = (e.parentSchema as { $comment?: unknown } | undefined)?.$comment;
  return typeof marker === 'string' ? marker : e.schemaPath;
}

/** Structural problems of a runbook (or, with `kind: 'scenario'`, of a drill scenario file). */
export function schemaDiagnostics(source: RunbookSource, kind: 'runbook' | 'scenario' = 'runbook'): Diagnostic[] {
  if (source.data === null || source.data === undefined) {
    return [source.diagnostic('schema/type', [], 'the file is empty', 'start from one of the examples in runbooks/')];
  }
  const validate = kind === 'runbook' ? validateRunbook : validateScenario;
  if (validate(source.data)) return [];
  const errors = (validate.errors ?? []).filter((e) => !isNoise(e));
  // An `anyOf` (a URL or a reference; a string, a number, ...) fails with one error per branch and one of
  // its own: one diagnostic says them all.
  const branchesOf = (a: ErrorObject) =>
    errors.filter((e) => e !== a && e.instancePath === a.instancePath && e.schemaPath.startsWith(`${a.schemaPath}/`));
  const inBranch = new Set(errors.filter((e) => e.keyword === 'anyOf').flatMap(branchesOf));
  return errors
    .filter((e) => !inBranch.has(e))
    .map((e) => (e.keyword === 'anyOf' ? anyOfDiagnostic(source, e, branchesOf(e)) : toDiagnostic(source, e)));
}

/** A `oneOf` fails with one error per branch; the branch errors are reported, not the oneOf itself. */
function isNoise(e: ErrorObject): boolean {
  return e.keyword === 'if' || e.keyword === 'oneOf';
}

/** What a reference branch of an `anyOf` accepts, by its definition. */
const REFERENCES: Record<string, { what: string; example: string }> = {
  '#/$defs/reference': { what: 'an `env:NAME` / `file:path` reference', example: '`env:NAME` or `file:path`' },
  '#/$defs/envReference': { what: 'an `env:NAME` reference', example: '`env:NAME`' },
};

/** An `anyOf` none of whose branches fits: what each branch would have accepted, in one diagnostic. */
function anyOfDiagnostic(source: RunbookSource, e: ErrorObject, branchErrors: ErrorObject[]): Diagnostic {
  const path = fromPointer(e.instancePath);
  const at = describe(path);
  const byBranch = new Map<string, ErrorObject[]>();
  for (const b of branchErrors) {
    const branch = b.schemaPath.slice(e.schemaPath.length + 1).split('/')[0]!;
    byBranch.set(branch, [...(byBranch.get(branch) ?? []), b]);
  }
  const branches = [...byBranch.values()];
  if (branches.every((errs) => errs.every((b) => b.keyword === 'type'))) {
    const types = branches.map((errs) => article(String(errs[0]!.params.type)));
    return source.diagnostic(
      'schema/type',
      path,
      `${at} must be ${alternatives(types, 'or')}, not ${typeName(e.data)}`,
      explain(e),
    );
  }
  const value = e.data;
  const words = branches.map((errs): { what: string; example?: string; format?: string; reason?: string } => {
    const format = errs.find((b) => b.keyword === 'format')?.params.format as string | undefined;
    if (format !== undefined) {
      const reason = typeof value === 'string' ? formatReason(format, value, path) : undefined;
      return { what: `of format ${format}`, ...FORMAT_WORDS[format], format, reason };
    }
    const reference = REFERENCES[definitionOf(errs[0]!)];
    if (reference) return reference;
    const type = errs.find((b) => b.keyword === 'type');
    return { what: type ? article(String(type.params.type)) : `a value that ${errs[0]!.message}` };
  });
  const formats = words.flatMap((w) => (w.format ? [`\`${w.format}\``] : []));
  const message = `${at} is ${JSON.stringify(value)}, which is neither ${alternatives(
    words.map((w) => w.what),
    'nor',
  )}${formats.length ? ` (format ${formats.join(', ')})` : ''}`;
  // A branch that can say precisely what is wrong (e.g. no `https://`) speaks; the others give examples.
  const precise = words.find((w) => w.reason);
  const examples = words.flatMap((w) => (w !== precise && w.example ? [w.example] : []));
  const hint = precise
    ? `${precise.reason}${examples.length ? `; or ${alternatives(examples, 'or')}` : ''}`
    : examples.length
      ? `write e.g. ${alternatives(examples, 'or')}`
      : explain(e);
  return source.diagnostic(formats.length ? 'schema/format' : 'schema/invalid', path, message, hint);
}

/** `a`, `a or b`, `a, b or c`. */
function alternatives(items: string[], word: 'or' | 'nor'): string {
  return items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} ${word} ${items[items.length - 1]}`;
}

function toDiagnostic(source: RunbookSource, e: ErrorObject): Diagnostic {
  const path = fromPointer(e.instancePath);
  const at = describe(path);
  const ref = `${definitionOf(e)}/`;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const guess = didYouMean(key, allowed);
      return source.diagnostic(
        'schema/unknown-key',
        [...path, key],
        `unknown key "${key}" in ${at}`,
        guess ? `did you mean "${guess}"?` : allowed.length ? `allowed keys here: ${allowed.join(', ')}` : 'remove it',
        { key: true },
      );
    }
    case 'required': {
      const key = String(e.params.missingProperty);
      return source.diagnostic(
        'schema/required',
        path,
        `${at} is missing the required key "${key}"`,
        `add \`${key}:\``,
        {
          key: true,
        },
      );
    }
    case 'type':
      return source.diagnostic(
        'schema/type',
        path,
        `${at} must be ${article(String(e.params.type))}, not ${typeName(e.data)}`,
        e.params.type === 'string' ? 'quote the value if YAML reads it as a number or boolean' : explain(e),
      );
    case 'enum':
    case 'const': {
      const allowed: unknown[] = e.keyword === 'enum' ? (e.params.allowedValues as unknown[]) : [e.params.allowedValue];
      const guess = typeof e.data === 'string' ? didYouMean(e.data, allowed.map(String)) : undefined;
      return source.diagnostic(
        'schema/enum',
        path,
        `${at} is ${JSON.stringify(e.data)}, which is not one of: ${allowed.map((v) => JSON.stringify(v)).join(', ')}`,
        guess ? `did you mean "${guess}"?` : 'write one of the values listed (they are case-sensitive)',
      );
    }
    case 'pattern': {
      if (ref.includes('/duration/')) {
        return source.diagnostic(
          'duration/invalid',
          path,
          `${at} is ${JSON.stringify(e.data)}, which is not a duration`,
          'write a number and a unit, largest unit first: `30s`, `15m`, `1h30m`, `2d` (units: d h m s ms)',
        );
      }
      if (ref.includes('/secret/')) {
        return source.diagnostic(
          'secret/inline',
          path,
          `${at} must reference a secret, not contain one`,
          'write `env:NAME` (an environment variable on the worker) or `file:/path` (a file on the worker)',
        );
      }
      if (ref.includes('/name/')) {
        return source.diagnostic(
          'schema/invalid',
          path,
          `${at} is ${JSON.stringify(e.data)}, which is not a valid name`,
          'use lower-case letters, digits and dashes, starting and ending with a letter or digit (e.g. `orders-db`)',
        );
      }
      return source.diagnostic(
        'schema/invalid',
        path,
        `${at} is ${JSON.stringify(e.data)}: it ${e.message}`,
        explain(e),
      );
    }
    case 'format': {
      const format = String(e.params.format);
      const words = FORMAT_WORDS[format];
      const reason = typeof e.data === 'string' ? formatReason(format, e.data, path) : undefined;
      return source.diagnostic(
        'schema/format',
        path,
        `${at} is ${JSON.stringify(e.data)}, which is not ${words?.what ?? 'of its format'} (format \`${format}\`)`,
        reason ?? (words ? `write e.g. ${words.example}` : explain(e)),
      );
    }
    default:
      return source.diagnostic('schema/invalid', path, `${at} ${e.message ?? 'is invalid'}`, explain(e));
  }
}

/** The schema's own description of the key (what editors show), else a pointer to the schema. */
function explain(e: ErrorObject): string {
  const description = (e.parentSchema as { description?: string } | undefined)?.description;
  return (
    description ??
    'see schemas/runbook.schema.json; an editor with the yaml-language-server comment shows what fits here'
  );
}

/** `groups[0].workloads[2].dependsOn` → words a person reads. */
function describe(path: readonly (string | number)[]): string {
  if (path.length === 0) return 'the runbook';
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function article(type: string): string {
  if (type === 'null') return type;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
