// Faults around the proxy (`winekernel serve`, measured from outside through
// /proc): a client killed mid-request, garbage in a request pipe, wineserver
// killed under the proxy, a thousand short-lived clients. The proxy must keep
// serving the others, give back every descriptor and the memory, and keep
// in its recording everything that happened before each fault.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runWineProgram } from '../support/wine.js';
import { readRecording, recordJson } from '../../proxy/recording/reader.ts';
import { RecordKind } from '../../proxy/recording/format.ts';
import { RawClient } from './raw-client.ts';
import { childPids, fdsBackToBaseline, processName, rssKb, useServedPrefix } from './harness.ts';

const record = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wk-rec-')), 'faults.wkrec');
const proxy = useServedPrefix('proxy-faults', ['--record', record, '--log-level', 'error'], () => {
  for (let i = 0; i < 20; i++) rawRoundTrip(); // warm up lazy paths
});

function rawRoundTrip(): number {
  const client = new RawClient(proxy.serve().socketPath);
  try {
    const reply = client.initFirstThread();
    expect(reply.error).toBe(0);
    return reply.pid;
  } finally {
    client.close();
  }
}

describe('proxy under faults', () => {
  it('a thousand short-lived clients: descriptors and memory come back', async () => {
    for (let i = 0; i < 500; i++) rawRoundTrip();
    expect(await fdsBackToBaseline(proxy.serve().pid, proxy.baselineFds())).toBe(proxy.baselineFds());
    const rssAfterFirst = rssKb(proxy.serve().pid);
    for (let i = 0; i < 500; i++) rawRoundTrip();
    expect(await fdsBackToBaseline(proxy.serve().pid, proxy.baselineFds())).toBe(proxy.baselineFds());
    const rssAfterSecond = rssKb(proxy.serve().pid);
    // A leak of even a few hundred bytes per client would show as steady growth.
    expect(rssAfterSecond - rssAfterFirst).toBeLessThan(16 * 1024);
  }, 300_000);

  it('a client SIGKILLed in the middle of a request does not disturb others', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test', 'proxy', 'raw-client.ts'), proxy.serve().socketPath], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const ready = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        if (out.includes('\n')) resolve(out);
      });
      child.once('exit', (code) => reject(new Error(`raw client exited early (${code})`)));
    });
    expect(ready).toMatch(/^ready \d+/);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(rawRoundTrip()).toBeGreaterThan(0);
    expect(await fdsBackToBaseline(proxy.serve().pid, proxy.baselineFds())).toBe(proxy.baselineFds());
  }, 60_000);

  it('garbage in a request pipe: that client is cut off, others go on', async () => {
    const victim = new RawClient(proxy.serve().socketPath);
    victim.initFirstThread();
    const bystander = new RawClient(proxy.serve().socketPath);
    bystander.initFirstThread();

    // An unknown request code is not garbage: wineserver answers it (STATUS_NOT_IMPLEMENTED).
    const unknown = Buffer.alloc(64);
    unknown.writeInt32LE(0x7fff, 0);
    victim.writeRequestBytes(unknown);
    expect(victim.readReply().readUInt32LE(0)).toBe(0xc0000002);

    // A request announcing 2.8 GB of data is.
    victim.writeRequestBytes(Buffer.alloc(64, 0xab));
    expect(victim.replyPipeEnds(10_000)).toBe(true);
    victim.close();

    // The bystander's own pipes still work.
    const again = Buffer.alloc(64);
    again.writeInt32LE(0x7ffe, 0);
    bystander.writeRequestBytes(again);
    expect(bystander.readReply().readUInt32LE(0)).toBe(0xc0000002);
    bystander.close();
    expect(rawRoundTrip()).toBeGreaterThan(0);
    expect(await fdsBackToBaseline(proxy.serve().pid, proxy.baselineFds())).toBe(proxy.baselineFds());
  }, 60_000);

  it('wineserver killed under the proxy: its clients see the end, new clients get a new wineserver', async () => {
    const connected = new RawClient(proxy.serve().socketPath);
    connected.initFirstThread();
    const servers = childPids(proxy.serve().pid).filter((pid) => processName(pid).startsWith('wineserver'));
    expect(servers.length).toBe(1);
    process.kill(servers[0], 'SIGKILL');
    expect(connected.replyPipeEnds(10_000)).toBe(true);
    connected.close();

    expect(rawRoundTrip()).toBeGreaterThan(0);
    const echo = await runWineProgram({ prefix: proxy.prefix(), exe: 'cmd', args: ['/c', 'echo', 'still', 'here'] });
    expect(echo.stdout).toBe('still here\n');
    expect(echo.exitCode).toBe(0);
  }, 120_000);

  it('the recording kept everything before and after each fault', async () => {
    expect(await proxy.serve().stop()).toBe(0);
    const recording = readRecording(record);
    expect(recording.truncatedTail).toBe(false);
    const count = (kind: RecordKind) => recording.records.filter((r) => r.kind === kind).length;
    expect(count(RecordKind.ConnectionOpen)).toBeGreaterThanOrEqual(1020);
    expect(count(RecordKind.ConnectionClose)).toBe(count(RecordKind.ConnectionOpen));
    const violations = recording.records.filter((r) => r.kind === RecordKind.ProtocolViolation);
    expect(violations.map((r) => recordJson(r)?.code)).toContain('WK_REQUEST_TOO_LARGE');
    // The unknown request and its answer are there, just before the violation.
    expect(recording.records.some((r) => r.kind === RecordKind.Request && r.code === 0x7fff)).toBe(true);
    const exits = recording.records.filter((r) => r.kind === RecordKind.Note).map((r) => recordJson(r));
    expect(exits).toContainEqual(expect.objectContaining({ event: 'wineserver-exit', signal: 'SIGKILL' }));
  }, 120_000);
});
