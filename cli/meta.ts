/** Commands about Drover itself: version, completion, explain, init. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { compile, DIAGNOSTIC_CODES } from '../compiler';
import { explain } from '../compiler/explain';
import { command, TEXT_OR_JSON } from './commands';
import { bashCompletion, fishCompletion, zshCompletion } from './completion';
import { EXIT, UsageError, UserError } from './io';
import { mainModule } from './lazy';
import { VERSION } from './program';
import { STARTERS } from './starters';
import { didYouMean } from './suggest';

export const versionCommand = command({
  name: 'version',
  summary: "print Drover's version, and the Temporal SDK and Node.js it runs on",
  options: {},
  uses: { output: TEXT_OR_JSON },
  run({ values }, io) {
    const versions = { drover: VERSION, temporalSdk: sdkVersion(), node: process.versions.node };
    io.stdout(
      values.output === 'json'
        ? JSON.stringify(versions, null, 2) + '\n'
        : `drover ${versions.drover} (Temporal TypeScript SDK ${versions.temporalSdk}, Node.js ${versions.node})\n`,
    );
    return EXIT.ok;
  },
});

function sdkVersion(): string {
  try {
    const file = join(dirname(require.resolve('@temporalio/client')), '..', 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const SHELLS = ['bash', 'zsh', 'fish'] as const;

export const completionCommand = command({
  name: 'completion',
  summary: 'print the shell completion script for bash, zsh or fish',
  operands: '<shell>',
  details: `bash:  source <(drover completion bash)        (or save it under /etc/bash_completion.d/)
zsh:   source <(drover completion zsh)
fish:  drover completion fish | source           (or save it as ~/.config/fish/completions/drover.fish)`,
  options: {},
  async run({ positionals }, io) {
    const shell = positionals[0]!;
    if (!(SHELLS as readonly string[]).includes(shell))
      throw new UsageError(`no completion for "${shell}": use one of ${SHELLS.join(', ')}${didYouMean(shell, SHELLS)}`);
    const { COMMANDS } = mainModule();
    const all = [...COMMANDS];
    io.stdout(shell === 'bash' ? bashCompletion(all) : shell === 'zsh' ? zshCompletion(all) : fishCompletion(all));
    return EXIT.ok;
  },
});

export const explainCommand = command({
  name: 'explain',
  summary: "a diagnostic code's long explanation, with an example of the mistake and its fix",
  operands: '[code]',
  details:
    'Without a code: every code with its one-line meaning. Codes are what `drover validate` prints in brackets: error[graph/cycle].',
  options: {},
  run({ positionals }, io) {
    const code = positionals[0];
    const codes = Object.keys(DIAGNOSTIC_CODES);
    if (code === undefined) {
      const width = Math.max(...codes.map((c) => c.length));
      io.stdout(
        codes.map((c) => `${c.padEnd(width)}  ${DIAGNOSTIC_CODES[c as keyof typeof DIAGNOSTIC_CODES]}`).join('\n') +
          '\n',
      );
      return EXIT.ok;
    }
    const text = explain(code);
    if (text === undefined)
      throw new UsageError(`no diagnostic code "${code}"${didYouMean(code, codes)} (drover explain lists them all)`);
    io.stdout(text.endsWith('\n') ? text : text + '\n');
    return EXIT.ok;
  },
});

const PROVIDERS = ['simulator', 'vsphere', 'postgres'] as const satisfies readonly (keyof typeof STARTERS)[];

export const initCommand = command({
  name: 'init',
  summary: 'write a commented starter runbook for a provider',
  operands: '[file]',
  details: `Writes a small, valid runbook to start from (default runbooks/<provider>-starter.yaml): two sites, workloads
with a dependency, objectives, an approval and a validation, every section commented. Its first line tells
YAML editors where the schema is (the schema of this Drover, by a path relative to the file), so the editor
completes and checks keys. Then: drover validate <file>; drover plan <file> --mode test.`,
  options: {
    provider: {
      short: 'p',
      value: 'provider',
      choices: PROVIDERS,
      help: `what recovers the workloads: ${PROVIDERS.join(', ')} (default simulator, which needs nothing)`,
    },
    force: { help: 'overwrite the file if it exists' },
  },
  run({ values, positionals }, io) {
    const provider = (values.provider ?? 'simulator') as (typeof PROVIDERS)[number];
    const file = positionals[0] ?? join('runbooks', `${provider}-starter.yaml`);
    const path = resolve(io.cwd, file);
    if (existsSync(path) && !values.force)
      throw new UserError(`${file} exists; nothing was written`, 'give another file name, or --force to overwrite it');
    const schema = relative(dirname(path), schemaFile()).split('\\').join('/');
    const text = STARTERS[provider].replace('{{schema}}', schema);
    const errors = compile(text, { file }).diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) throw new Error(`the ${provider} starter does not compile: ${errors[0]!.message}`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    io.stdout(
      `wrote ${file} (${provider}); the editor finds its schema at ${schema}\nnext: drover validate ${file}; drover plan ${file} --mode test\n`,
    );
    return EXIT.ok;
  },
});

/** The runbook schema of this Drover: schemas/ at the top of its package (from cli/ or dist/cli/). */
export function schemaFile(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'schemas', 'runbook.schema.json');
    if (existsSync(file)) return file;
  }
  throw new Error('schemas/runbook.schema.json not found above ' + __dirname);
}
