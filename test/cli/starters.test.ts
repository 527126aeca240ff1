/**
 * The starter runbooks of `drover init`: each compiles in every mode, without an error or a warning, and
 * keeps the promises a new user relies on: the schema comment first, every section commented, secrets only
 * by reference, addresses only on loopback.
 */
import { parse } from 'yaml';
import { compile, MODES } from '../../compiler';
import type { Diagnostic } from '../../compiler';
import { STARTERS } from '../../cli/starters';

/** What `drover init` puts in place of {{schema}} for a file in runbooks/. */
const withSchema = (text: string) => text.replace('{{schema}}', '../schemas/runbook.schema.json');

const show = (ds: Diagnostic[]) => ds.map((d) => `${d.line}:${d.column} ${d.severity}[${d.code}] ${d.message}`);

const starters = Object.entries(STARTERS) as [keyof typeof STARTERS, string][];

test('there is a starter for each provider drover init offers', () => {
  expect(Object.keys(STARTERS).sort()).toEqual(['postgres', 'simulator', 'vsphere']);
});

describe.each(starters)('the %s starter', (provider, starter) => {
  const text = withSchema(starter);

  test('validates without any diagnostic, error or warning (as drover init and drover validate do)', () => {
    expect(show(compile(text, { file: `runbooks/${provider}-starter.yaml` }).diagnostics)).toEqual([]);
  });

  // Every provider can run every mode here: the postgres provider lacks only network steps, and the
  // starter gives its databases none. So each mode must plan, and warn of nothing (no mode's critical path
  // over the RTO, no unknown error type).
  test.each([...MODES])('plans in %s mode without an error or a warning', (mode) => {
    const { plan, diagnostics } = compile(text, { file: `runbooks/${provider}-starter.yaml`, mode });
    expect(show(diagnostics)).toEqual([]);
    expect(plan?.mode).toBe(mode);
  });

  test('its sites use that provider, and it has what the brief of a starter promises', () => {
    const rb = parse(text) as {
      sites: Record<'protected' | 'recovery', { provider: string }>;
      steps: { name: string; modes?: string[]; approval?: unknown }[];
      groups: { workloads: { name: string; dependsOn?: string[]; validations?: unknown[] }[] }[];
      objectives: { rpo: string; rto: string };
    };
    expect([rb.sites.protected.provider, rb.sites.recovery.provider]).toEqual([provider, provider]);
    expect(rb.objectives.rpo).toBeTruthy();
    expect(rb.objectives.rto).toBeTruthy();
    const approval = rb.steps.find((s) => s.approval !== undefined);
    expect(approval?.modes).toEqual(['planned-migration', 'disaster-recovery', 'failback']);
    const workloads = rb.groups.flatMap((g) => g.workloads);
    expect(workloads.length).toBeGreaterThanOrEqual(2);
    expect(workloads.some((w) => w.dependsOn?.length)).toBe(true);
    expect(workloads.every((w) => w.validations?.length)).toBe(true);
  });

  test('starts with the schema placeholder, once, which drover init replaces', () => {
    expect(starter.split('\n')[0]).toBe('# yaml-language-server: $schema={{schema}}');
    expect(starter.split('{{schema}}').length).toBe(2);
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/runbook.schema.json');
  });

  test('every top-level section is introduced by a comment', () => {
    const lines = starter.split('\n');
    lines.forEach((line, i) => {
      if (!/^[a-z]\w*:/.test(line)) return;
      if (/^(apiVersion|kind):/.test(line)) return; // the header: apiVersion's comment is on its line
      expect([line, lines[i - 1]?.startsWith('#')]).toEqual([line, true]);
    });
  });

  test('secrets only by reference, addresses only 127.0.0.1', () => {
    for (const m of starter.matchAll(/^\s*(password|thumbprint|token|username|user):\s*(\S+)/gm)) {
      if (m[1] === 'user') continue; // a role name, not a secret
      expect([m[1], m[2]]).toEqual([m[1], expect.stringMatching(/^(env|file):\S+$/)]);
    }
    expect(starter).not.toMatch(/Authorization|Bearer/);
    for (const m of starter.matchAll(/\b\d{1,3}(\.\d{1,3}){3}\b/g)) expect(m[0]).toBe('127.0.0.1');
    // Outside comments, a URL is read from the worker's environment, or is 127.0.0.1 or the guest's own.
    const values = starter.replace(/(^|\s)#.*$/gm, '');
    for (const m of values.matchAll(/https?:\/\/([^/:\s]+)/g)) expect(['127.0.0.1', '{guest}']).toContain(m[1]);
  });
});
