// Native files: attach_native_file / get_native_file hand out the same open
// file description (shared offset), close-on-exec, and release it with the
// object.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { WK_EBADF, WK_ENOENT } from '../../backends/primitives.js';
import { freshInstance } from './harness.js';

let dir: string;
const openedFds: number[] = [];
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'wk-native-'));
});
afterEach(() => {
  for (const fd of openedFds.splice(0)) {
    try {
      closeSync(fd);
    } catch {
      // already closed by the test
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

function track(fd: number): number {
  openedFds.push(fd);
  return fd;
}

function fileWith(content: string): number {
  const file = path.join(dir, `f${openedFds.length}`);
  const fd = track(openSync(file, 'w+'));
  writeSync(fd, content, 0);
  return track(openSync(file, 'r'));
}

function readAt(fd: number, count: number): string {
  const buf = Buffer.alloc(count);
  const got = readSync(fd, buf, 0, count, null); // null: at (and moving) the file offset
  return buf.subarray(0, got).toString();
}

describe('native files', () => {
  test('-ENOENT before a file is attached; -EBADF for an fd that is not open', async () => {
    const { s } = await freshInstance();
    const h = s.create('file:f', null, 0);
    expect(s.getNativeFile(h)).toBe(-WK_ENOENT);
    const fd = fileWith('x');
    closeSync(fd);
    expect(s.attachNativeFile(h, fd)).toBe(-WK_EBADF);
    expect(s.attachNativeFile(h, 1_000_000)).toBe(-WK_EBADF);
    expect(s.attachNativeFile(h, -1)).toBe(-WK_EBADF);
    expect(s.getNativeFile(h)).toBe(-WK_ENOENT);
  });

  test('the new fd is the same open file description: the file offset is shared', async () => {
    const { s, join } = await freshInstance();
    const fd = fileWith('abcdefghij');
    const h = s.create('file:f', null, 0);
    expect(s.attachNativeFile(h, fd)).toBe(0);
    const other = await join();
    const o = other.open('file:f');
    const copy = other.getNativeFile(o);
    expect(copy).toBeGreaterThanOrEqual(0);
    track(copy);
    expect(copy).not.toBe(fd);
    expect(readAt(copy, 3)).toBe('abc');
    expect(readAt(fd, 3)).toBe('def'); // the read through the copy moved our offset
    const second = track(s.getNativeFile(h));
    expect(readAt(second, 2)).toBe('gh');
    expect(readAt(copy, 10)).toBe('ij');
  });

  test('the caller keeps its own fd; the object keeps the file after the caller closes it', async () => {
    const { s } = await freshInstance();
    const fd = fileWith('kept');
    const h = s.create('file:f', null, 0);
    expect(s.attachNativeFile(h, fd)).toBe(0);
    expect(readAt(fd, 1)).toBe('k');
    closeSync(fd);
    const copy = track(s.getNativeFile(h));
    expect(readAt(copy, 10)).toBe('ept');
  });

  test('the fd handed out is close-on-exec', async () => {
    const { s } = await freshInstance();
    const h = s.create('file:f', null, 0);
    const fd = fileWith('x');
    expect(s.attachNativeFile(h, fd)).toBe(0);
    const copy = track(s.getNativeFile(h));
    const flags = /flags:\s+([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${copy}`, 'utf8'))![1];
    expect(parseInt(flags, 8) & 0o2000000).not.toBe(0); // O_CLOEXEC
  });

  test('attaching again replaces the file', async () => {
    const { s } = await freshInstance();
    const h = s.create('file:f', null, 0);
    expect(s.attachNativeFile(h, fileWith('first'))).toBe(0);
    expect(s.attachNativeFile(h, fileWith('second'))).toBe(0);
    expect(readAt(track(s.getNativeFile(h)), 20)).toBe('second');
  });

  test('a pipe works too, and the object lets go of it when it dies (the reader sees EOF)', async () => {
    const { s } = await freshInstance();
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = track(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const h = s.create('pipe:p', null, 0);
    expect(s.attachNativeFile(h, writer)).toBe(0);
    closeSync(writer);
    const copy = s.getNativeFile(h);
    expect(copy).toBeGreaterThanOrEqual(0);
    writeSync(copy, 'through the object');
    closeSync(copy);
    expect(readAt(reader, 100)).toBe('through the object');
    // the object still holds a write end: no EOF yet, just nothing to read
    expect(() => readSync(reader, Buffer.alloc(8), 0, 8, null)).toThrow(/EAGAIN/);
    expect(s.close(h)).toBe(0); // last handle: the object and its file go
    expect(readSync(reader, Buffer.alloc(8), 0, 8, null)).toBe(0);
  });
});
