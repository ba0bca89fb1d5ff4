// Adding a Wine version is running the generator on its protocol.def: this
// test makes a second "Wine version" (8.0's protocol.def with one request
// added at the end and one field added to an existing request), generates
// it beside the real one, loads it and uses it.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Protocol } from '../../requests/protocol.ts';
import type { GeneratedProtocol } from '../../requests/protocol-types.ts';
import { ByteBuilder, requestFrame } from '../helpers/byte-builder.ts';
import { PROJECT_ROOT, ensureWineSource } from '../helpers/wine-source.ts';

const outDir = join(PROJECT_ROOT, 'requests', `.generated-test-${process.pid}`);
const srcDir = mkdtempSync(join(tmpdir(), 'wk-second-version-'));
afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
  rmSync(srcDir, { recursive: true, force: true });
});

describe('a second protocol version', () => {
  it('is generated from its protocol.def and used side by side with 8.0', async () => {
    const wine = ensureWineSource();
    cpSync(join(wine, 'server'), join(srcDir, 'server'), { recursive: true });
    cpSync(join(wine, 'include'), join(srcDir, 'include'), { recursive: true });
    writeFileSync(join(srcDir, 'VERSION'), 'Wine version 8.99-test\n');
    const def = readFileSync(join(wine, 'server', 'protocol.def'), 'utf8')
      .replace('@REQ(add_atom)\n', '@REQ(add_atom)\n    unsigned int flags;         /* new in this version */\n')
      .concat('\n@REQ(winekernel_test)\n    obj_handle_t handle;\n    VARARG(name,unicode_str);\n@REPLY\n    int value;\n@END\n');
    writeFileSync(join(srcDir, 'server', 'protocol.def'), def);

    execFileSync(process.execPath, ['--import', 'tsx', 'requests/generator/cli.ts', '--source', srcDir, '--out', outDir, '--protocol-version', '9999'], {
      cwd: PROJECT_ROOT,
      stdio: 'pipe',
    });
    const versions = (await import(join(outDir, 'versions.ts'))) as { GENERATED_VERSIONS: Record<string, GeneratedProtocol> };
    expect(Object.keys(versions.GENERATED_VERSIONS)).toEqual(['wine-8.99-test']);
    const next = new Protocol(versions.GENERATED_VERSIONS['wine-8.99-test']);
    expect(next.protocolVersion).toBe(9999);
    expect(next.requests).toHaveLength(279);

    const code = next.codeOf('winekernel_test');
    expect(code).toBe(278);
    const frame = requestFrame(code, 0, (b) => b.u32(0x44), new ByteBuilder().utf16('x').build());
    const decoded = next.decodeRequest(frame);
    expect(next.formatRequest(0x20, decoded)).toBe('0020: winekernel_test( handle=0044, name=L"x" )');
    expect(next.encodeRequest(decoded)).toEqual(frame);

    // add_atom gained a field before its vararg in this version only.
    const addAtom = requestFrame(next.codeOf('add_atom'), 0, (b) => b.u32(7), new ByteBuilder().utf16('a').build());
    expect(next.formatRequest(0x20, next.decodeRequest(addAtom))).toBe('0020: add_atom( flags=00000007, name=L"a" )');
  });
});
