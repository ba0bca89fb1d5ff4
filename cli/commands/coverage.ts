// `winekernel coverage [--json | --markdown] [--html FILE] [--fixture FILE...] [--wine VERSION]`:
// for every request type of the protocol, whether the translation layer
// translates it or forwards it to wineserver and why, the primitives it uses,
// whether it existed in 2003, and the summaries (docs/coverage.md explains
// how to read them).
//
// It reads only the generated request table (definition.ts), not the
// decoders, so it works without the proxy's native addon or any kind module.

import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Command } from '../main.ts';
import { Catalog } from '../../mappings/catalog/index.ts';
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

const USAGE = `usage: winekernel coverage [--json | --markdown] [--html FILE] [--fixture FILE...] [--wine VERSION] [--requests-2003 FILE]

  --json            one JSON document: an entry per request type (name, code, status,
                    verdict, reason, primitives, in2003, ...) and the summaries
  --markdown        the summary and per-family tables as markdown (docs/coverage.md)
  --html FILE       also write a standalone HTML page to FILE
  --fixture FILE    a proxy recording; reports the share of its requests that are of
                    translated types (repeatable)
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
 * Request codes of the recordings. The recording format is the proxy's
 * (proxy/recording/format.ts); its reader module is not written yet, so this
 * fails with a clear error until proxy/recording/reader.ts exists and exports
 * readRecording(path) yielding RecordEntry values.
 */
async function fixtureCodes(files: string[]): Promise<number[]> {
  const readerPath = join(REPO_ROOT, 'proxy', 'recording', 'reader.ts');
  if (!existsSync(readerPath)) {
    throw new CoverageError(
      'WK_FIXTURE_READER_MISSING',
      '--fixture needs the recording reader (proxy/recording/reader.ts), which does not exist yet',
    );
  }
  const reader = (await import(pathToFileURL(readerPath).href)) as Record<string, unknown>;
  const read = reader.readRecording as ((path: string) => AsyncIterable<{ kind: number; code: number }> | Iterable<{ kind: number; code: number }>) | undefined;
  if (typeof read !== 'function') {
    throw new CoverageError('WK_FIXTURE_READER_MISSING', 'proxy/recording/reader.ts does not export readRecording(path)');
  }
  const { RecordKind } = await import('../../proxy/recording/format.ts');
  const codes: number[] = [];
  for (const file of files) {
    try {
      for await (const record of read(file)) if (record.kind === RecordKind.Request) codes.push(record.code);
    } catch (error) {
      throw new CoverageError('WK_FIXTURE_UNREADABLE', `cannot read recording ${file}: ${(error as Error).message}`);
    }
  }
  return codes;
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
      const report = buildCoverage({
        catalog,
        wineVersion: table.WINE_VERSION,
        protocolVersion: table.PROTOCOL_VERSION,
        requests2003: loadRequests2003(values['requests-2003']),
        fixtureCodes: files.length ? { files, codes: await fixtureCodes(files) } : undefined,
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
