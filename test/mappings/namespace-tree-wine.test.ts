// The whole object namespace against real wineserver: a small Windows
// program (its source is below, compiled at test time with MinGW like the
// corpus) lists, entry by entry, every directory of wineserver's startup tree
// (\, \??, \Device, \KernelObjects, \ObjectTypes, \NLS, \Sessions\...,
// \BaseNamedObjects, the window-station directories, ...) after Wine has
// booted: wineboot's events, winedevice's devices and drive links, the
// services' sections and events are all there by then. It runs through
// `winekernel run --record`; the replay (mappings/replay.ts, the one of
// `winekernel replay`) mirrors every forwarded request that names an object
// and must answer each get_directory_entry exactly as wineserver did: same
// entries, same types, same hash order.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTemplatePrefix } from '../support/wine.ts';
import { linesOf, recordProgram, replayDifferences, replayRun, unexpectedSkips } from '../helpers/recorded-run.ts';

const MINGW = process.env.CC_MINGW ?? 'x86_64-w64-mingw32-gcc';

/** Lists the directories named on its command line with NtQueryDirectoryObject, one entry per call. */
const LISTER_SOURCE = `#include <windows.h>
#include <winternl.h>
#include <stdio.h>
typedef struct { UNICODE_STRING Name; UNICODE_STRING TypeName; } ENTRY;
NTSTATUS NTAPI NtOpenDirectoryObject(HANDLE *, ACCESS_MASK, OBJECT_ATTRIBUTES *);
NTSTATUS NTAPI NtQueryDirectoryObject(HANDLE, void *, ULONG, BOOLEAN, BOOLEAN, ULONG *, ULONG *);
int main(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        WCHAR path[512];
        UNICODE_STRING us;
        OBJECT_ATTRIBUTES oa;
        HANDLE dir;
        ULONG context = 0, len, n = 0;
        BYTE buf[4096];
        NTSTATUS st;
        MultiByteToWideChar(CP_ACP, 0, argv[i], -1, path, 512);
        RtlInitUnicodeString(&us, path);
        InitializeObjectAttributes(&oa, &us, 0, NULL, NULL);
        st = NtOpenDirectoryObject(&dir, 1, &oa);
        if (st) { printf("%s: open 0x%08lx\\n", argv[i], (unsigned long)st); continue; }
        while (!(st = NtQueryDirectoryObject(dir, buf, sizeof(buf), TRUE, n == 0, &context, &len))) n++;
        printf("%s: %lu entries\\n", argv[i], n);
        CloseHandle(dir);
    }
    return 0;
}
`;

const DIRECTORIES = [
  '\\', '\\??', '\\BaseNamedObjects', '\\Sessions', '\\Sessions\\BNOLINKS', '\\Sessions\\0', '\\Sessions\\1',
  '\\Sessions\\1\\BaseNamedObjects', '\\KernelObjects', '\\ObjectTypes', '\\Device', '\\NLS', '\\Windows',
  '\\Windows\\WindowStations', '\\Sessions\\1\\Windows', '\\Sessions\\1\\Windows\\WindowStations', '\\Driver',
  '\\Sessions\\0\\DosDevices', '\\Sessions\\1\\DosDevices',
];

let work: string;
let exe: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'wk-ns-tree-'));
  const source = path.join(work, 'lister.c');
  exe = path.join(work, 'lister.exe');
  fs.writeFileSync(source, LISTER_SOURCE);
  const cc = spawnSync(MINGW, ['-O2', '-Wall', '-Werror', '-static-libgcc', '-static', '-s', '-o', exe, source, '-lntdll'], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) {
    throw new Error(`cannot build the directory lister with ${MINGW} (apt-get install gcc-mingw-w64-x86-64): ${cc.error?.message ?? cc.stderr}`);
  }
  await ensureTemplatePrefix();
}, 600_000);

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

describe("the startup namespace against real wineserver", () => {
  it('lists every directory of the booted namespace exactly as wineserver does', async () => {
    let stdout = '';
    const run = await recordProgram('ns-tree', exe, DIRECTORIES, (out, exitCode) => {
      expect(exitCode).toBe(0);
      stdout = out;
    });
    // Every directory opened and listed (the counts are the real ones, whatever Wine booted).
    for (const dir of DIRECTORIES) expect(stdout).toMatch(new RegExp(`^${dir.replace(/[\\?]/g, (c) => `\\${c}`)}: \\d+ entries$`, 'm'));
    const report = await replayRun(run);
    expect(replayDifferences(report)).toEqual([]);
    expect(report.mismatched).toBe(0);
    expect(report.types.get_directory_entry.skipped).toBe(0);
    expect(unexpectedSkips(report, [/class atom/])).toEqual([]);
    // Listings are wineserver's replies byte for byte.
    expect(report.types.get_directory_entry.byteExact).toBe(report.types.get_directory_entry.replayed);
    const lines = linesOf(report, ['get_directory_entry']);
    const listed = lines.filter((l) => l.includes('get_directory_entry() = 0 {')).length;
    const total = [...stdout.matchAll(/: (\d+) entries$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(listed).toBeGreaterThanOrEqual(total);
    expect(total).toBeGreaterThan(100);
    expect(lines).toContainEqual(expect.stringMatching(/get_directory_entry\(\) = 0 \{ total_len=22, name_len=16, name=L"REGISTRY", type=L"Key" \}$/));
    console.log(`namespace tree replay: ${total} entries in ${DIRECTORIES.length} directories, ${report.families.namespace.replayed} namespace replies compared exactly, ${report.mirrored.compared} forwarded requests mirrored`);
  }, 400_000);
});
