// `winekernel coverage`: the real command, run as a child process.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CATALOG_ENTRIES } from '../../mappings/catalog/index.ts';
import { BUNDLED_REQUESTS_2003, loadRequests2003, parseRequestList, SHARED_REQUESTS_2003, summarizeFixture } from '../../mappings/coverage.ts';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const BIN = path.join(REPO, 'bin', 'winekernel.js');

function run(args: string[]) {
  const result = spawnSync(process.execPath, [BIN, 'coverage', ...args], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return result;
}

const rowSchema = z.object({
  name: z.string(),
  code: z.number().int().nonnegative(),
  family: z.string(),
  status: z.enum(['translated, verified by replay', 'translated', 'forwarded']),
  verdict: z.enum(['translated', 'expressible', 'needs-primitive', 'os-bound']),
  reason: z.object({ category: z.string(), missing: z.array(z.string()).optional(), detail: z.string().min(10) }).optional(),
  primitives: z.array(z.string()),
  domains: z.array(z.string()).min(1),
  in2003: z.boolean(),
  live: z.enum(['yes', 'yes, server calls', 'proxy handles', 'no']).optional(),
});

const reportSchema = z.object({
  wineVersion: z.literal('8.0'),
  protocolVersion: z.literal(758),
  requestCount: z.literal(278),
  rows: z.array(rowSchema).length(278),
  byStatus: z.record(z.number()),
  byReason: z.record(z.number()),
  byMissing: z.record(z.number()),
  byVerdict: z.record(z.number()),
  domains: z.array(z.object({ domain: z.string(), split: z.boolean() }).passthrough()),
  proposal2003: z.object({ total: z.literal(176), stillPresent: z.number(), removed: z.array(z.string()), translated: z.number(), forwarded: z.number() }).passthrough(),
});

describe('winekernel coverage', () => {
  it('--json gives one entry per request type with name, code, status, reason, primitives and in2003', () => {
    const result = run(['--json']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const report = reportSchema.parse(JSON.parse(result.stdout));
    expect(report.rows.map((r) => r.code)).toEqual([...Array(278).keys()]);
    for (const row of report.rows) {
      if (row.status === 'forwarded') expect(row.reason).toBeDefined();
      else expect(row.reason).toBeUndefined();
    }
    const addAtom = report.rows.find((r) => r.name === 'add_atom')!;
    expect(addAtom).toMatchObject({ code: 102, status: 'translated', verdict: 'translated', in2003: true });
    expect(report.rows.find((r) => r.name === 'get_atom_information')!.in2003).toBe(false);
    // As many translated types as the catalog has translators (atoms, registry, namespace, object security, ...).
    const translatedTypes = CATALOG_ENTRIES.filter((e) => e.status === 'translated').length;
    expect(translatedTypes).toBeGreaterThanOrEqual(4);
    expect(report.byStatus.translated).toBe(translatedTypes);
    expect(report.byStatus.forwarded).toBe(278 - translatedTypes);
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    expect(sum(report.byVerdict)).toBe(278);
    expect(sum(report.byReason)).toBe(278 - translatedTypes);
    // 2003: present + removed = 176; translated + forwarded = present.
    const p = report.proposal2003;
    expect(p.stillPresent + p.removed.length).toBe(176);
    expect(p.translated + p.forwarded).toBe(p.stillPresent);
    // add_atom, delete_atom, find_atom (get_atom_name was renamed since), and whichever later translators cover.
    expect(p.translated).toBe(report.rows.filter((r) => r.in2003 && r.status !== 'forwarded').length);
    expect(p.translated).toBeGreaterThanOrEqual(3);
    expect(p.removed).toContain('get_atom_name');
    // The atom table is shared with forwarded class/property requests: reported as split.
    expect(report.domains.find((d) => d.domain === 'global-atom-table')!.split).toBe(true);
    // What --translate does with each translated type: the registry and atoms are the proxy's, the hive
    // requests and notification through server calls, directories and links with server twins.
    const live = (name: string) => (report.rows.find((r) => r.name === name) as { live?: string }).live;
    // Forwarded requests have a live status only when the proxy answers them for its own handles.
    const answeredForProxyHandles = ['select', 'close_handle', 'dup_handle', 'set_handle_info', 'get_object_info', 'get_object_name', 'get_object_type', 'get_handle_fd', 'get_handle_unix_name'];
    for (const row of report.rows) expect('live' in row, row.name).toBe(row.status !== 'forwarded' || answeredForProxyHandles.includes(row.name));
    for (const name of answeredForProxyHandles) expect(live(name), name).toBe('proxy handles');
    expect(live('open_key')).toBe('yes');
    expect(live('add_atom')).toBe('yes');
    expect(live('save_registry')).toBe('yes, server calls');
    expect(live('set_registry_notification')).toBe('yes, server calls');
    expect(live('release_mutex')).toBe('proxy handles');
    expect(live('create_directory')).toBe('yes, server calls');
    expect(live('get_directory_entry')).toBe('yes, server calls');
    expect(live('query_symlink')).toBe('proxy handles');
  });

  it('prints a table with one line per request and the summary lines', () => {
    const result = run([]);
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.filter((l) => /^\s*\d+\s{2}\S/.test(l)).length).toBe(278);
    expect(result.stdout).toMatch(/^ {2}28 {2}select +yes +forwarded +missing-primitive \[missing: wait-multiple, signal-wakeup\]/m);
    expect(result.stdout).toMatch(/^ 102 {2}add_atom +yes +translated +uses /m);
    expect(result.stdout).toContain('Wine 8.0 (protocol 758): 278 request types');
    expect(result.stdout).toMatch(/2003 proposal \(176 requests of protocol 114\): \d+ still present/);
    expect(result.stdout).toContain('split state domains');
  });

  it('--html writes a standalone page without external assets', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wk-coverage-'));
    try {
      const file = path.join(dir, 'coverage.html');
      const result = run(['--html', file]);
      expect(result.status).toBe(0);
      const html = fs.readFileSync(file, 'utf8');
      expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
      expect(html.match(/<tr class=/g)?.length).toBe(278);
      expect(html).not.toMatch(/<(script|link|img)\b/i);
      expect(html).not.toMatch(/https?:\/\//);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with a clear error for bad options and missing inputs', () => {
    const bad = run(['--bogus']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--bogus'");
    const missing = run(['--requests-2003', '/nonexistent/list.txt']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('WK_REQUESTS_2003_UNREADABLE');
    const version = run(['--wine', '1.0']);
    expect(version.status).toBe(1);
    expect(version.stderr).toContain('WK_UNKNOWN_PROTOCOL_VERSION');
  });

  it('reads the 2003 list from the shared mission folder, or the committed copy', () => {
    const bundled = parseRequestList(fs.readFileSync(BUNDLED_REQUESTS_2003, 'utf8'));
    expect(bundled.length).toBe(176);
    const loaded = loadRequests2003();
    expect(loaded.names).toEqual(bundled);
    expect(loaded.source).toBe(fs.existsSync(SHARED_REQUESTS_2003) ? SHARED_REQUESTS_2003 : BUNDLED_REQUESTS_2003);
  });

  it('computes the translated share of recorded traffic from request codes', () => {
    const rows = JSON.parse(run(['--json']).stdout).rows;
    const summary = summarizeFixture(rows, ['x.wkrec'], [102, 104, 104, 21, 9999]);
    expect(summary).toMatchObject({ requests: 5, translatedRequests: 3, unknownCodes: 1 });
    expect(summary.share).toBeCloseTo(0.6);
    expect(summary.byRequest[0]).toEqual({ name: 'find_atom', count: 2, status: 'translated' });
  });
});

/** The committed recordings, as --fixture arguments. */
function committedFixtureArgs(): string[] {
  const dir = path.join(REPO, 'fixtures', 'recordings');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.wkrec.gz'))
    .sort()
    .flatMap((f) => ['--fixture', path.join('fixtures', 'recordings', f)]);
}

describe('winekernel coverage --verify', () => {
  it('marks translated types whose replies all matched on replay of the committed recordings', () => {
    const rows = JSON.parse(run(['--json', '--verify']).stdout).rows as Array<{ name: string; status: string }>;
    const status = new Map(rows.map((r) => [r.name, r.status]));
    // Every committed recording exercises the registry and Wine's own atoms.
    expect(status.get('open_key')).toBe('translated, verified by replay');
    expect(status.get('get_key_value')).toBe('translated, verified by replay');
    expect(status.get('add_atom')).toBe('translated, verified by replay');
    // Verification never promotes a forwarded type.
    expect(rows.filter((r) => r.status === 'translated, verified by replay' && status.get(r.name) === 'forwarded')).toEqual([]);
    expect(status.get('select')).toBe('forwarded');
  }, 120_000);
});

describe('docs/coverage.md', () => {
  it('contains the current report (regenerate with `winekernel coverage --markdown --verify --fixture ...` over fixtures/recordings)', () => {
    const doc = fs.readFileSync(path.join(REPO, 'docs', 'coverage.md'), 'utf8');
    const current = run(['--markdown', '--verify', ...committedFixtureArgs()]);
    expect(current.status).toBe(0);
    expect(doc.endsWith(current.stdout)).toBe(true);
  });
});

describe('winekernel coverage --fixture', () => {
  it('reports the share of recorded requests that are of translated types', async () => {
    const { RecordingWriter } = await import('../../proxy/recording/writer.ts');
    const { Direction, RecordKind } = await import('../../proxy/recording/format.ts');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wk-coverage-fixture-'));
    try {
      const file = path.join(dir, 'atoms.wkrec');
      const writer = new RecordingWriter(file, { protocolVersion: 758, mode: 'test' });
      const ctx = { connection: 1, threadKey: 1, tid: 0x24, pid: 0x20, unixPid: 1 };
      const frame = (code: number) => {
        const b = Buffer.alloc(64);
        b.writeInt32LE(code, 0);
        return b;
      };
      for (const code of [102, 104, 104, 21, 28]) writer.record(RecordKind.Request, Direction.ClientToServer, ctx, code, 0, frame(code));
      writer.record(RecordKind.Reply, Direction.ServerToClient, ctx, 102, 0, Buffer.alloc(64));
      writer.close();
      const result = run(['--json', '--fixture', file]);
      expect(result.stderr).toBe('');
      const report = JSON.parse(result.stdout);
      expect(report.fixture).toMatchObject({ files: [file], requests: 5, translatedRequests: 3, unknownCodes: 0 });
      expect(report.fixture.share).toBeCloseTo(0.6);
      const text = run(['--fixture', file]);
      expect(text.stdout).toContain('5 requests, 3 of translated types (60.0%)');
      const wrongVersion = path.join(dir, 'old.wkrec');
      new RecordingWriter(wrongVersion, { protocolVersion: 757, mode: 'test' }).close();
      const refused = run(['--fixture', wrongVersion]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('recorded with protocol 757');
      const garbage = path.join(dir, 'garbage.wkrec');
      fs.writeFileSync(garbage, 'not a recording\n');
      const bad = run(['--fixture', garbage]);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain('WK_FIXTURE_UNREADABLE');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
