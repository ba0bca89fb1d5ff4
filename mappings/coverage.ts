// The coverage report: for every request type of a protocol, what the
// translation layer does with it and why, plus the 2003 proposal's own
// question (do the primitives cover every request?). Pure functions over the
// catalog; cli/commands/coverage.ts prints them.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ATOM_BRIDGED_REQUESTS, ATOM_SERVER_INTERNAL_REQUESTS } from './atom-bridge.ts';
import type { Catalog } from './catalog/index.ts';
import {
  FAMILIES,
  MISSING_PRIMITIVES,
  REASON_CATEGORIES,
  STATE_DOMAINS,
  type Family,
  type ForwardReason,
  type MissingPrimitive,
  type PrimitiveCall,
  type ReasonCategory,
  type StateDomain,
} from './translator.ts';
import { WinekernelError } from '../errors/winekernel-error.ts';

export type CoverageStatus = 'translated, verified by replay' | 'translated' | 'forwarded';

/**
 * What the catalog says about the 2003 question for one request:
 *  translated   a translator exists and is tested;
 *  expressible  the primitives suffice (not-yet-translated, shared-state, or a
 *               subsystem category naming no missing capability);
 *  needs-primitive  a capability the primitives lack (see `missing`);
 *  os-bound     the state is the OS's (processes, threads, memory, ...).
 */
export type Verdict = 'translated' | 'expressible' | 'needs-primitive' | 'os-bound';

export interface CoverageRow {
  name: string;
  code: number;
  family: Family;
  status: CoverageStatus;
  verdict: Verdict;
  reason?: ForwardReason;
  primitives: PrimitiveCall[];
  domains: StateDomain[];
  in2003: boolean;
  /**
   * A forwarded request that carries atoms of the global table, and what the
   * proxy does with them live (docs/translation.md, "Live atoms"): 'bridged'
   * (served by wineserver through the proxy, atom numbers rewritten) or
   * 'wineserver-internal' (its atom use never reaches the client).
   */
  liveAtoms?: 'bridged' | 'wineserver-internal';
  /**
   * A translated request under `run/serve --translate` (docs/translation.md,
   * "Which families are translated live"): 'yes' answered by the proxy;
   * 'yes, server calls' answered by the proxy with requests of its own to
   * wineserver on the caller's thread; 'proxy handles' answered when it names
   * a handle the proxy minted (forwarded otherwise); 'no' translated only in
   * replay (its state domain is wineserver's live). A forwarded request
   * has it ('proxy handles') when the proxy answers it live for its own
   * handles (close_handle, dup_handle, set_handle_info, object info and
   * names, the descriptor requests: docs/translation.md, "Proxy handles
   * across processes").
   */
  live?: LiveStatus;
}

export type LiveStatus = 'yes' | 'yes, server calls' | 'proxy handles' | 'no';

export interface DomainSummary {
  domain: StateDomain;
  translated: number;
  forwarded: number;
  /** Some of its requests translated, some forwarded: the two sides would disagree if run live. */
  split: boolean;
  translatedRequests: string[];
  forwardedRequests: string[];
}

export interface Proposal2003Summary {
  source: string;
  total: number;
  stillPresent: number;
  removed: string[];
  translated: number;
  forwarded: number;
  forwardedByReason: Partial<Record<ReasonCategory, number>>;
  byVerdict: Record<Verdict, number>;
}

export interface FixtureSummary {
  files: string[];
  requests: number;
  translatedRequests: number;
  /** translatedRequests / requests (0 when there are none) */
  share: number;
  /** Request counts by name, most frequent first. */
  byRequest: Array<{ name: string; count: number; status: CoverageStatus }>;
  /** Codes the protocol does not know (counted in `requests`, never translated). */
  unknownCodes: number;
}

export interface CoverageReport {
  wineVersion: string;
  protocolVersion: number;
  requestCount: number;
  rows: CoverageRow[];
  byStatus: Record<CoverageStatus, number>;
  byReason: Partial<Record<ReasonCategory, number>>;
  /** How many requests name each missing capability. */
  byMissing: Partial<Record<MissingPrimitive, number>>;
  byVerdict: Record<Verdict, number>;
  byFamily: Array<{ family: Family; total: number; translated: number; forwarded: number }>;
  domains: DomainSummary[];
  proposal2003?: Proposal2003Summary;
  fixture?: FixtureSummary;
}

export class CoverageError extends WinekernelError<'WK_REQUESTS_2003_UNREADABLE' | 'WK_FIXTURE_UNREADABLE' | 'WK_UNKNOWN_PROTOCOL_VERSION'> {}

// ---------------------------------------------------------------------------
// The 2003 request list

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file is mappings/coverage.ts). */
export const REPO_ROOT = resolve(HERE, '..');
/** Where the mission files live, relative to the repository root, when present. */
export const SHARED_REQUESTS_2003 = resolve(REPO_ROOT, '../shared/mission/requests-2003.txt');
/** The committed copy. */
export const BUNDLED_REQUESTS_2003 = join(HERE, 'requests-2003.txt');

/** Request names of the 2003 protocol: one per line, '#' comments and blank lines ignored. */
export function parseRequestList(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

/** Reads the 2003 list from the shared mission folder if present, else the committed copy. */
export function loadRequests2003(path?: string): { source: string; names: string[] } {
  const candidates = path ? [path] : [SHARED_REQUESTS_2003, BUNDLED_REQUESTS_2003];
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue;
    try {
      return { source: candidate, names: parseRequestList(readFileSync(candidate, 'utf8')) };
    } catch (error) {
      throw new CoverageError('WK_REQUESTS_2003_UNREADABLE', `cannot read ${candidate}: ${(error as Error).message}`);
    }
  }
  throw new CoverageError('WK_REQUESTS_2003_UNREADABLE', `no 2003 request list at ${candidates.join(' or ')}`);
}

// ---------------------------------------------------------------------------
// Building the report

export interface CoverageInput {
  catalog: Catalog;
  wineVersion: string;
  protocolVersion: number;
  /** Names of the 2003 protocol's requests (omit to leave the 2003 section out). */
  requests2003?: { source: string; names: readonly string[] };
  /** Request types whose translation a replay of real recordings has verified. */
  verifiedByReplay?: ReadonlySet<string>;
  /** Request codes seen in recordings, one per request. */
  fixtureCodes?: { files: string[]; codes: Iterable<number> };
  /** What live translation does with each translated request (the live catalog's view; omit to leave it out). */
  live?: (request: string) => LiveStatus;
}

function verdictOf(status: CoverageStatus, reason?: ForwardReason): Verdict {
  if (status !== 'forwarded') return 'translated';
  if (reason?.category === 'os-bound') return 'os-bound';
  if (reason?.missing?.length) return 'needs-primitive';
  return 'expressible';
}

function zeroVerdicts(): Record<Verdict, number> {
  return { translated: 0, expressible: 0, 'needs-primitive': 0, 'os-bound': 0 };
}

export function buildCoverage(input: CoverageInput): CoverageReport {
  const in2003 = new Set(input.requests2003?.names ?? []);
  const rows: CoverageRow[] = input.catalog.entries().map((entry, code) => {
    const status: CoverageStatus =
      entry.status === 'forwarded' ? 'forwarded' : input.verifiedByReplay?.has(entry.request) ? 'translated, verified by replay' : 'translated';
    const reason = entry.status === 'forwarded' ? entry.reason : undefined;
    const row: CoverageRow = {
      name: entry.request,
      code,
      family: entry.family,
      status,
      verdict: verdictOf(status, reason),
      primitives: [...entry.primitives],
      domains: [...entry.domains],
      in2003: in2003.has(entry.request),
    };
    if (reason) row.reason = { ...reason, ...(reason.missing ? { missing: [...reason.missing] } : {}) };
    else if (input.live) row.live = input.live(entry.request);
    if (status === 'forwarded') {
      if (entry.request in ATOM_BRIDGED_REQUESTS) row.liveAtoms = 'bridged';
      else if (entry.request in ATOM_SERVER_INTERNAL_REQUESTS) row.liveAtoms = 'wineserver-internal';
      // Forwarded in general, but answered live when it names a proxy handle (the generic handle requests, select).
      else if (input.live && input.live(entry.request) !== 'no') row.live = 'proxy handles';
    }
    return row;
  });

  const byStatus: Record<CoverageStatus, number> = { 'translated, verified by replay': 0, translated: 0, forwarded: 0 };
  const byReason: Partial<Record<ReasonCategory, number>> = {};
  const byMissing: Partial<Record<MissingPrimitive, number>> = {};
  const byVerdict = zeroVerdicts();
  for (const row of rows) {
    byStatus[row.status]++;
    byVerdict[row.verdict]++;
    if (row.reason) {
      byReason[row.reason.category] = (byReason[row.reason.category] ?? 0) + 1;
      for (const m of row.reason.missing ?? []) byMissing[m] = (byMissing[m] ?? 0) + 1;
    }
  }

  const byFamily = FAMILIES.map((family) => {
    const members = rows.filter((r) => r.family === family);
    const translated = members.filter((r) => r.status !== 'forwarded').length;
    return { family, total: members.length, translated, forwarded: members.length - translated };
  }).filter((f) => f.total > 0);

  const domains: DomainSummary[] = (Object.keys(STATE_DOMAINS) as StateDomain[]).map((domain) => {
    const members = rows.filter((r) => r.domains.includes(domain));
    const translatedRequests = members.filter((r) => r.status !== 'forwarded').map((r) => r.name);
    const forwardedRequests = members.filter((r) => r.status === 'forwarded').map((r) => r.name);
    return {
      domain,
      translated: translatedRequests.length,
      forwarded: forwardedRequests.length,
      split: translatedRequests.length > 0 && forwardedRequests.length > 0,
      translatedRequests,
      forwardedRequests,
    };
  });

  const report: CoverageReport = {
    wineVersion: input.wineVersion,
    protocolVersion: input.protocolVersion,
    requestCount: rows.length,
    rows,
    byStatus,
    byReason,
    byMissing,
    byVerdict,
    byFamily,
    domains,
  };

  if (input.requests2003) {
    const current = new Map(rows.map((r) => [r.name, r]));
    const present = input.requests2003.names.filter((n) => current.has(n)).map((n) => current.get(n)!);
    const forwardedByReason: Partial<Record<ReasonCategory, number>> = {};
    const verdicts = zeroVerdicts();
    for (const row of present) {
      verdicts[row.verdict]++;
      if (row.reason) forwardedByReason[row.reason.category] = (forwardedByReason[row.reason.category] ?? 0) + 1;
    }
    report.proposal2003 = {
      source: input.requests2003.source,
      total: input.requests2003.names.length,
      stillPresent: present.length,
      removed: input.requests2003.names.filter((n) => !current.has(n)),
      translated: present.filter((r) => r.status !== 'forwarded').length,
      forwarded: present.filter((r) => r.status === 'forwarded').length,
      forwardedByReason,
      byVerdict: verdicts,
    };
  }

  if (input.fixtureCodes) report.fixture = summarizeFixture(rows, input.fixtureCodes.files, input.fixtureCodes.codes);
  return report;
}

/** The share of recorded requests that are of translated types. */
export function summarizeFixture(rows: readonly CoverageRow[], files: string[], codes: Iterable<number>): FixtureSummary {
  const counts = new Map<number, number>();
  let requests = 0;
  for (const code of codes) {
    requests++;
    counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  let translatedRequests = 0;
  let unknownCodes = 0;
  const byRequest: FixtureSummary['byRequest'] = [];
  for (const [code, count] of counts) {
    const row = rows[code];
    if (!row) {
      unknownCodes += count;
      continue;
    }
    if (row.status !== 'forwarded') translatedRequests += count;
    byRequest.push({ name: row.name, count, status: row.status });
  }
  byRequest.sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  return { files, requests, translatedRequests, share: requests ? translatedRequests / requests : 0, byRequest, unknownCodes };
}

// ---------------------------------------------------------------------------
// Rendering

function pct(part: number, whole: number): string {
  return whole ? `${((100 * part) / whole).toFixed(1)}%` : '-';
}

function reasonText(row: CoverageRow): string {
  if (!row.reason) return '';
  const missing = row.reason.missing?.length ? ` [missing: ${row.reason.missing.join(', ')}]` : '';
  const live = row.liveAtoms ? ` (live: atoms ${row.liveAtoms === 'bridged' ? 'bridged' : 'wineserver-internal'})` : '';
  return `${row.reason.category}${missing}: ${row.reason.detail}${live}`;
}

/** The summary lines shared by the text and markdown forms. */
export function summaryLines(report: CoverageReport): string[] {
  const total = report.requestCount;
  const lines: string[] = [];
  lines.push(`Wine ${report.wineVersion} (protocol ${report.protocolVersion}): ${total} request types`);
  lines.push(
    `status: ${(Object.entries(report.byStatus) as [CoverageStatus, number][]).map(([s, n]) => `${s} ${n}`).join(', ')}`,
  );
  const liveRows = report.rows.filter((r) => r.live && r.status !== 'forwarded');
  const forProxyHandles = report.rows.filter((r) => r.live && r.status === 'forwarded');
  if (liveRows.length) {
    const statuses: LiveStatus[] = ['yes', 'yes, server calls', 'proxy handles', 'no'];
    lines.push(`translated live (run/serve --translate): ${statuses.map((l) => `${l} ${liveRows.filter((r) => r.live === l).length}`).join(', ')}`);
  }
  if (forProxyHandles.length) lines.push(`forwarded, but answered live for proxy handles: ${forProxyHandles.length} (${forProxyHandles.map((r) => r.name).join(', ')})`);
  lines.push(
    `verdict (can the primitives express it?): ${(Object.entries(report.byVerdict) as [Verdict, number][])
      .map(([v, n]) => `${v} ${n} (${pct(n, total)})`)
      .join(', ')}`,
  );
  lines.push(
    `forwarded by reason: ${(Object.keys(REASON_CATEGORIES) as ReasonCategory[])
      .filter((c) => report.byReason[c])
      .map((c) => `${c} ${report.byReason[c]}`)
      .join(', ')}`,
  );
  lines.push(
    `missing capabilities (requests needing each): ${(Object.keys(MISSING_PRIMITIVES) as MissingPrimitive[])
      .filter((m) => report.byMissing[m])
      .sort((a, b) => report.byMissing[b]! - report.byMissing[a]!)
      .map((m) => `${m} ${report.byMissing[m]}`)
      .join(', ')}`,
  );
  const split = report.domains.filter((d) => d.split);
  lines.push(
    split.length
      ? `split state domains (translated and forwarded requests share state; do not route both live): ${split
          .map((d) => `${d.domain} (translated: ${d.translatedRequests.join(', ')}; forwarded: ${d.forwardedRequests.join(', ')})`)
          .join('; ')}`
      : 'split state domains: none',
  );
  const bridged = report.rows.filter((r) => r.liveAtoms === 'bridged').map((r) => r.name);
  const internal = report.rows.filter((r) => r.liveAtoms === 'wineserver-internal').map((r) => r.name);
  if (bridged.length || internal.length) {
    lines.push(
      `live atom bridge (global-atom-table is the proxy's live; forwarded requests carrying atoms are served by wineserver with atom numbers rewritten): bridged: ${bridged.join(', ')}; wineserver-internal: ${internal.join(', ')}`,
    );
  }
  const p = report.proposal2003;
  if (p) {
    lines.push(
      `2003 proposal (${p.total} requests of protocol 114): ${p.stillPresent} still present in Wine ${report.wineVersion}, ${p.removed.length} gone; ` +
        `of those present: ${p.translated} translated, ${p.forwarded} forwarded (` +
        (Object.keys(REASON_CATEGORIES) as ReasonCategory[])
          .filter((c) => p.forwardedByReason[c])
          .map((c) => `${c} ${p.forwardedByReason[c]}`)
          .join(', ') +
        `); verdicts: ${(Object.entries(p.byVerdict) as [Verdict, number][]).map(([v, n]) => `${v} ${n}`).join(', ')}`,
    );
  }
  const f = report.fixture;
  if (f) {
    lines.push(
      `recorded traffic (${f.files.join(', ')}): ${f.requests} requests, ${f.translatedRequests} of translated types (${pct(f.translatedRequests, f.requests)})` +
        (f.unknownCodes ? `, ${f.unknownCodes} with unknown codes` : ''),
    );
  }
  return lines;
}

/** The plain-text table: one line per request type, then the summary. */
export function renderText(report: CoverageReport): string {
  const nameWidth = Math.max(...report.rows.map((r) => r.name.length));
  const out: string[] = [];
  out.push(`${'code'.padStart(4)}  ${'request'.padEnd(nameWidth)}  2003  ${'status'.padEnd(10)}  reason / primitives`);
  for (const row of report.rows) {
    const what = row.status === 'forwarded' ? reasonText(row) : `uses ${row.primitives.join(', ')}${row.live ? `; live: ${row.live}` : ''}`;
    out.push(`${String(row.code).padStart(4)}  ${row.name.padEnd(nameWidth)}  ${row.in2003 ? 'yes ' : 'no  '}  ${row.status.padEnd(10)}  ${what}`);
  }
  out.push('');
  out.push(...summaryLines(report));
  return out.join('\n') + '\n';
}

/** The JSON form: one entry per request type plus the summaries. */
export function renderJson(report: CoverageReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A standalone HTML page (inline style, no external assets). */
export function renderHtml(report: CoverageReport): string {
  const rows = report.rows
    .map(
      (r) =>
        `<tr class="${r.verdict}"><td>${r.code}</td><td><code>${escapeHtml(r.name)}</code></td><td>${escapeHtml(r.family)}</td>` +
        `<td>${r.in2003 ? 'yes' : ''}</td><td>${escapeHtml(r.status)}</td><td>${escapeHtml(r.verdict)}</td>` +
        `<td>${r.reason ? escapeHtml(r.reason.category) : ''}</td><td>${escapeHtml(r.reason?.missing?.join(', ') ?? '')}</td>` +
        `<td>${r.reason ? escapeHtml(r.reason.detail) : r.live ? `live: ${escapeHtml(r.live)}` : ''}</td><td>${escapeHtml(r.primitives.join(', '))}</td></tr>`,
    )
    .join('\n');
  const summary = summaryLines(report)
    .map((l) => `<li>${escapeHtml(l)}</li>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>winekernel coverage: Wine ${escapeHtml(report.wineVersion)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ccc; padding: 2px 6px; vertical-align: top; text-align: left; }
th { background: #eee; position: sticky; top: 0; }
tr.translated td { background: #d9f7d9; }
tr.expressible td { background: #eef6ff; }
tr.needs-primitive td { background: #fff4d6; }
tr.os-bound td { background: #f3e6f3; }
code { font-size: 13px; }
</style></head><body>
<h1>Translation coverage of the wineserver protocol (Wine ${escapeHtml(report.wineVersion)}, protocol ${report.protocolVersion})</h1>
<ul>
${summary}
</ul>
<table>
<thead><tr><th>code</th><th>request</th><th>family</th><th>2003</th><th>status</th><th>verdict</th><th>reason</th><th>missing</th><th>detail</th><th>primitives</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}

/** The markdown report of docs/coverage.md (summary + per-family tables). */
export function renderMarkdown(report: CoverageReport): string {
  const out: string[] = [];
  out.push('```');
  out.push(...summaryLines(report));
  out.push('```');
  out.push('');
  out.push('| family | requests | translated | forwarded |');
  out.push('| --- | ---: | ---: | ---: |');
  for (const f of report.byFamily) out.push(`| ${f.family} | ${f.total} | ${f.translated} | ${f.forwarded} |`);
  for (const f of report.byFamily) {
    out.push('');
    out.push(`### ${f.family}`);
    out.push('');
    out.push('| code | request | 2003 | status | verdict | reason | primitives |');
    out.push('| ---: | --- | --- | --- | --- | --- | --- |');
    for (const r of report.rows.filter((row) => row.family === f.family)) {
      const reason = r.reason ? reasonText(r).replace(/\|/g, '\\|') : r.live ? `live: ${r.live}` : '';
      out.push(`| ${r.code} | \`${r.name}\` | ${r.in2003 ? 'yes' : ''} | ${r.status} | ${r.verdict} | ${reason} | ${r.primitives.join(', ')} |`);
    }
  }
  return out.join('\n') + '\n';
}
