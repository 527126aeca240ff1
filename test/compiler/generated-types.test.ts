/**
 * The runbook's TypeScript types are generated from its schema (tools/generate-types.ts): the committed
 * compiler/runbook.generated.ts must be what the generator makes of the schema as it is now. Offline and
 * in-process (json-schema-to-typescript, Prettier's standalone build).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { forTypes, generateFrom, GENERATED_FILE } from '../../tools/generate-types';

// json-schema-to-typescript loads Prettier's Node entry, which runs a dynamic import as it loads (refused in
// Jest's CommonJS sandbox). The generator formats with Prettier's standalone build and asks the library for
// no formatting, so that entry is never called: an empty stand-in is enough.
jest.mock('prettier', () => ({}));

const root = join(__dirname, '..', '..');

test('compiler/runbook.generated.ts is up to date with the schema (else: npm run generate:types)', async () => {
  const committed = readFileSync(join(root, GENERATED_FILE), 'utf8');
  const generated = await generateFrom(root);
  expect(committed).toBe(generated);
});

test('the schema is read for types only as the generator comment says', () => {
  const schema = {
    type: 'object',
    properties: {
      url: { type: 'string', anyOf: [{ format: 'http-url' }, { $ref: '#/$defs/reference' }] },
      spec: { $ref: '#/$defs/spec', description: 'one use of it' },
      body: { description: 'any value' },
      method: { enum: ['GET'], default: 'GET' },
    },
    $defs: { reference: { type: 'string' }, spec: { type: 'object' } },
  };
  expect(forTypes(schema)).toEqual({
    type: 'object',
    title: 'Runbook',
    properties: {
      url: { type: 'string' },
      spec: { $ref: '#/$defs/spec' },
      body: { description: 'any value', tsType: 'unknown' },
      method: { enum: ['GET'], default: 'GET' },
    },
    $defs: { reference: { type: 'string' }, spec: { type: 'object' } },
  });
  expect(() => forTypes({ properties: { a: { $ref: '#/$defs/x', minLength: 1 } } })).toThrow(
    '#/properties/a: $ref beside minLength: say how it should be typed',
  );
});
