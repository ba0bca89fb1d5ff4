// `winekernel trace FILE` on a recording written by the proxy's own writer.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Direction, RecordKind } from '../../proxy/recording/format.ts';
import { RecordingWriter } from '../../proxy/recording/writer.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import { ByteBuilder, replyFrame, requestFrame } from '../helpers/byte-builder.ts';
import { PROJECT_ROOT } from '../helpers/wine-source.ts';

const protocol = loadProtocol('wine-8.0');
const dir = mkdtempSync(join(tmpdir(), 'wk-trace-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'winekernel.js'), ...args], { encoding: 'utf8' });

describe('winekernel trace', () => {
  const file = join(dir, 'atoms.wkrec');
  const ctx = { connection: 1, threadKey: 1, tid: 0x24, pid: 0x20, unixPid: 4242 };
  const writer = new RecordingWriter(file, { protocolVersion: protocol.protocolVersion, mode: 'test' });
  const addAtom = protocol.codeOf('add_atom');
  writer.record(RecordKind.FdToServer, Direction.ClientToServer, ctx, -1, 0, new ByteBuilder().u32(0x24).i32(9).build());
  writer.record(RecordKind.Request, Direction.ClientToServer, ctx, addAtom, 0, requestFrame(addAtom, 0, () => {}, new ByteBuilder().utf16('foo').build()));
  writer.record(RecordKind.Reply, Direction.ServerToClient, ctx, addAtom, 0, replyFrame(0, (b) => b.u32(0xc001)));
  writer.record(RecordKind.Request, Direction.ClientToServer, ctx, 4000, 0, requestFrame(4000, 0, () => {}));
  writer.record(RecordKind.Reply, Direction.ServerToClient, ctx, 4000, 0, replyFrame(0xc0000002, () => {}));
  writer.record(RecordKind.Wakeup, Direction.ServerToClient, ctx, -1, 0, new ByteBuilder().u64(0x1234n).i32(0).i32(0).build());
  writer.close();

  it('prints requests, replies and received fds as wineserver does', () => {
    const out = cli('trace', file);
    expect(out.status).toBe(0);
    expect(out.stdout.split('\n')).toEqual([
      '0024: *fd* 9 <- ?',
      '0024: add_atom( name=L"foo" )',
      '0024: add_atom() = 0 { atom=c001 }',
      '0024: 4000(?)',
      '0024: 4000() = NOT_IMPLEMENTED',
      '',
    ]);
  });

  it('prints the other records with --all as comment lines', () => {
    const out = cli('trace', '--all', file);
    expect(out.stdout).toMatch(/^# 0024 Wakeup <- 3412000000000000/m);
  });

  it('stops quietly with status 0 when its reader closes the pipe early (trace | head)', () => {
    const out = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${join(PROJECT_ROOT, 'bin', 'winekernel.js')}" trace fixtures/recordings/atoms.wkrec.gz | head -n 1`], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
    });
    expect(out.stdout).toMatch(/^0024: /);
    expect(out.stderr).not.toMatch(/EPIPE/);
    expect(out.status).toBe(0);
  });

  it('refuses a file that is not a recording with a clear message and status 1', () => {
    const bogus = join(dir, 'bogus.wkrec');
    writeFileSync(bogus, 'not a recording\n');
    const out = cli('trace', bogus);
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/^winekernel trace: .*bogus.wkrec is not a valid winekernel recording/);
    expect(out.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('lists the protocol as JSON with 278 requests, each with sizes and variable parts', () => {
    const json = JSON.parse(execFileSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'winekernel.js'), 'protocol', '--json'], { encoding: 'utf8' }));
    expect(json.protocolVersion).toBe(758);
    expect(json.requests).toHaveLength(278);
    const addAtom = json.requests.find((r: { name: string }) => r.name === 'add_atom');
    expect(addAtom.request.varargs).toEqual([{ name: 'name', kind: 'unicode_str' }]);
    expect(addAtom.reply.fixedSize).toBe(16);
  });
});
