// `winekernel coverage [--json | --markdown] [--html FILE] [--fixture FILE...] [--wine VERSION]`:
// for every request type of the protocol, whether the translation layer
// translates it or forwards it to wineserver and why, the primitives it uses,
// whether it existed in 2003, and the summaries (docs/coverage.md explains
// how to read them).
//
// It reads only the generated request table (definition.ts), not the
// decoders, so it works without the proxy's native addon or any kind module.

import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Command } from '../main.ts';
import { Catalog } from '../../mappings/catalog/index.ts';
import { liveStatusFor } from '../../proxy/translate/live/index.ts';
import {
  buildCoverage,
  CoverageError,
  loadRequests2003,
  renderHtml,
  renderJson,
  renderMarkdown,
  renderText,
  REPO_ROOT,
} from '../../mappings/coverage.ts';

const USAGE = `usage: winekernel coverage [--json | --markdown] [--html FILE] [--fixture FILE...] [--verify] [--wine VERSION] [--requests-2003 FILE]

  --json            one JSON document: an entry per request type (name, code, status,
                    verdict, reason, primitives, in2003, ...) and the summaries
  --markdown        the summary and per-family tables as markdown (docs/coverage.md)
  --html FILE       also write a standalone HTML page to FILE
  --fixture FILE    a proxy recording; reports the share of its requests that are of
                    translated types (repeatable)
  --verify          replay the --fixture recordings (default: the committed ones in
                    fixtures/recordings) through the translators on the in-process
                    backend; a translated type all of whose replies matched is
                    'translated, verified by replay'
  --wine VERSION    protocol version to report on (default wine-8.0)
  --requests-2003   the 2003 request list (default ../shared/mission/requests-2003.txt
                    if present, else mappings/requests-2003.txt)
`;

interface RequestTable {
  WINE_VERSION: string;
  PROTOCOL_VERSION: number;
  REQUESTS: ReadonlyArray<{ code: number; name: string }>;
}

async function loadRequestTable(version: string): Promise<RequestTable> {
  const name = version.startsWith('wine-') ? version : `wine-${version}`;
  const path = join(REPO_ROOT, 'requests', 'generated', name, 'definition.ts');
  if (!existsSync(path)) throw new CoverageError('WK_UNKNOWN_PROTOCOL_VERSION', `no generated protocol ${name} (${path})`);
  return (await import(pathToFileURL(path).href)) as RequestTable;
}

/**
 * Request codes of the recordings (proxy/recording/reader.ts; format in
 * docs/fixture-format.md), one per recorded request, in order. A recording
 * made against another protocol version is refused: its codes mean other
 * requests.
 */
async function fixtureCodes(files: string[], protocolVersion: number): Promise<number[]> {
  const { readRecording } = await import('../../proxy/recording/reader.ts');
  const { RecordKind } = await import('../../proxy/recording/format.ts');
  const codes: number[] = [];
  for (const file of files) {
    let recording;
    try {
      recording = readRecording(file);
    } catch (error) {
      throw new CoverageError('WK_FIXTURE_UNREADABLE', `cannot read recording ${file}: ${(error as Error).message}`);
    }
    const version = recording.header.protocolVersion;
    if (version !== 0 && version !== protocolVersion) {
      throw new CoverageError('WK_FIXTURE_UNREADABLE', `${file} was recorded with protocol ${version}, not ${protocolVersion}`);
    }
    for (const record of recording.records) if (record.kind === RecordKind.Request) codes.push(record.code);
  }
  return codes;
}

/** The recordings committed under fixtures/recordings. */
function committedFixtures(): string[] {
  const dir = join(import.meta.dirname, '..', '..', 'fixtures', 'recordings');
  return readdirSync(dir).filter((f) => /\.wkrec(\.gz)?$/.test(f)).map((f) => join(dir, f));
}

/**
 * Replays the recordings through the translators of every translated family
 * on the in-process backend (mappings/replay.ts): a translated type is
 * verified when it was replayed at least once and every one of its replies
 * matched the recorded one.
 */
async function verifyByReplay(files: string[]): Promise<Set<string>> {
  const { readRecording } = await import('../../proxy/recording/reader.ts');
  const { findStartingHives, replayRecording } = await import('../../mappings/replay.ts');
  const { createInProcessBackend } = await import('../../backends/inprocess/index.ts');
  const { loadProtocol } = await import('../../requests/protocol.ts');
  const seen = new Map<string, { replayed: number; matched: number }>();
  for (const file of files) {
    const recording = readRecording(file);
    const protocol = loadProtocol(recording.header.protocolVersion || undefined);
    const start = findStartingHives(file, recording);
    const report = await replayRecording(recording, { protocol, backend: createInProcessBackend(), hives: start?.hives, monotonicRawOffset100ns: start?.monotonicRawOffset100ns });
    for (const [name, stats] of Object.entries(report.types)) {
      const total = seen.get(name) ?? { replayed: 0, matched: 0 };
      total.replayed += stats.replayed;
      total.matched += stats.matched;
      seen.set(name, total);
    }
  }
  return new Set([...seen].filter(([, t]) => t.replayed > 0 && t.matched === t.replayed).map(([name]) => name));
}

export const command: Command = {
  summary: 'which wineserver requests are translated onto the primitives, which are forwarded and why',
  async run(args) {
    let values;
    try {
      ({ values } = parseArgs({
        args,
        options: {
          json: { type: 'boolean', default: false },
          markdown: { type: 'boolean', default: false },
          html: { type: 'string' },
          fixture: { type: 'string', multiple: true },
          verify: { type: 'boolean', default: false },
          wine: { type: 'string', default: 'wine-8.0' },
          'requests-2003': { type: 'string' },
          help: { type: 'boolean', default: false },
        },
      }));
    } catch (error) {
      process.stderr.write(`winekernel coverage: ${(error as Error).message}\n${USAGE}`);
      return 2;
    }
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    try {
      const table = await loadRequestTable(values.wine!);
      const catalog = new Catalog(table.REQUESTS.map((r) => r.name));
      const files = values.fixture ?? [];
      const verifiedByReplay = values.verify ? await verifyByReplay(files.length ? files : committedFixtures()) : undefined;
      const report = buildCoverage({
        verifiedByReplay,
        catalog,
        wineVersion: table.WINE_VERSION,
        protocolVersion: table.PROTOCOL_VERSION,
        requests2003: loadRequests2003(values['requests-2003']),
        fixtureCodes: files.length ? { files, codes: await fixtureCodes(files, table.PROTOCOL_VERSION) } : undefined,
        live: liveStatusFor(table.REQUESTS.map((r) => r.name)),
      });
      if (values.html) writeFileSync(values.html, renderHtml(report));
      process.stdout.write(values.json ? renderJson(report) : values.markdown ? renderMarkdown(report) : renderText(report));
      return 0;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (error instanceof CoverageError || code === 'WK_CATALOG_INVALID') {
        process.stderr.write(`winekernel coverage: ${(error as Error).message} (${code})\n`);
        return 1;
      }
      throw error;
    }
  },
};
