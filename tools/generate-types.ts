/**
 * `npm run generate:types`: the runbook's TypeScript types, compiler/runbook.generated.ts, from
 * schemas/runbook.schema.json, so that the types the compiler reads a runbook through cannot drift from
 * what the schema accepts. test/compiler/generated-types.test.ts fails when the committed file is not
 * what this produces from the current schema.
 *
 * The generator is json-schema-to-typescript. The schema goes through `forTypes` first, for three
 * things that generator reads differently from JSON Schema 2020-12 (each rule is checked, not assumed):
 * - a `$ref` with a `description` beside it (an annotation of that use) would be declared as a new type
 *   per use (`HttpSpec1`, `IpSpec2`, ...): the annotation is dropped, the reference kept;
 * - a string's `anyOf` (a URL or an `env:`/`file:` reference) constrains a string and is still a string,
 *   where the generator would intersect `string` with an object per branch: it is dropped;
 * - a schema that only annotates (any value, e.g. an HTTP body) is `unknown`, where the generator would
 *   make it an object.
 * Array lengths (`minItems`) are not made tuple types: the compiler reads lists defensively anyway.
 *
 * Formatted with the project's Prettier (its standalone build, which needs no dynamic import and so also
 * runs inside Jest), with .prettierrc.json: the file passes `prettier --check` and eslint as generated.
 *
 * Not part of the build (tools/tsconfig.json compiles this file alone), so it also runs when stale types
 * keep the rest of the project from compiling.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compile } from 'json-schema-to-typescript';
import type { JSONSchema } from 'json-schema-to-typescript';
import { format } from 'prettier/standalone';
import * as estree from 'prettier/plugins/estree';
import * as typescript from 'prettier/plugins/typescript';

export const SCHEMA_FILE = 'schemas/runbook.schema.json';
export const GENERATED_FILE = 'compiler/runbook.generated.ts';

const BANNER = `/**
 * The runbook as written, generated from ${SCHEMA_FILE} by \`npm run generate:types\`
 * (tools/generate-types.ts): do not edit. compiler/runbook.ts re-exports these types under the names the
 * code uses, with what the schema cannot say.
 */`;

/** Keywords that only annotate: beside a `$ref` they describe one use of the type. */
const ANNOTATIONS = new Set(['description', 'default', 'examples', 'title', '$comment', 'deprecated']);

/** Keywords whose value is data, not a schema. */
const VALUES = new Set(['enum', 'const', 'required', 'type', 'pattern', 'format', '$ref', '$schema', '$id']);

type Node = Record<string, unknown>;
const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The schema as the type generator should read it (see the file's comment); the root is `Runbook`. */
export function forTypes(schema: object): JSONSchema {
  const walk = (node: unknown, at: string): unknown => {
    if (Array.isArray(node)) return node.map((item, i) => walk(item, `${at}/${i}`));
    if (!isNode(node)) return node;
    if (typeof node.$ref === 'string') {
      const other = Object.keys(node).filter((k) => k !== '$ref' && !ANNOTATIONS.has(k));
      if (other.length) throw new Error(`${at}: $ref beside ${other.join(', ')}: say how it should be typed`);
      return { $ref: node.$ref };
    }
    const copy: Node = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'anyOf' && node.type === 'string') continue;
      if (ANNOTATIONS.has(key) || VALUES.has(key)) {
        copy[key] = value;
        continue;
      }
      // Property names and definition names are not schemas' keywords: walk what they name.
      copy[key] =
        (key === 'properties' || key === '$defs') && isNode(value)
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, `${at}/${key}/${k}`)]))
          : walk(value, `${at}/${key}`);
    }
    if (Object.keys(copy).every((k) => ANNOTATIONS.has(k))) copy.tsType = 'unknown';
    return copy;
  };
  return { ...(walk(schema, '#') as Node), title: 'Runbook' } as JSONSchema;
}

/** The text of compiler/runbook.generated.ts for `schema`, formatted with `prettier` options. */
export async function generateRunbookTypes(schema: object, prettier: Record<string, unknown>): Promise<string> {
  const text = await compile(forTypes(schema), 'Runbook', {
    bannerComment: BANNER,
    format: false,
    ignoreMinAndMaxItems: true,
    unreachableDefinitions: true,
    strictIndexSignatures: false,
    additionalProperties: true,
    $refOptions: { resolve: { external: false } },
  });
  return format(text, { ...prettier, parser: 'typescript', plugins: [estree, typescript] });
}

/** What `root` (the repository) would generate now. */
export async function generateFrom(root: string): Promise<string> {
  const schema = JSON.parse(readFileSync(join(root, SCHEMA_FILE), 'utf8')) as object;
  const prettier = JSON.parse(readFileSync(join(root, '.prettierrc.json'), 'utf8')) as Record<string, unknown>;
  return generateRunbookTypes(schema, prettier);
}

if (require.main === module) {
  // dist/tools/generate-types.js → the repository.
  const root = resolve(__dirname, '..', '..');
  generateFrom(root).then(
    (text) => {
      writeFileSync(join(root, GENERATED_FILE), text);
      console.log(`${GENERATED_FILE} written from ${SCHEMA_FILE}`);
    },
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exitCode = 1;
    },
  );
}
