// Checks our generated protocol against what Wine's own generator produced
// for the same release: the field offsets and struct sizes asserted in
// server/request.h, the dump calls in server/trace.c (which field prints with
// which format, in which order, with which separator), and the status-name
// table. These files are read here as data; nothing of them is copied.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadProtocol } from '../../requests/protocol.ts';
import { FIELD_TYPES } from '../../requests/generator/layout.ts';
import { ensureWineSource } from '../helpers/wine-source.ts';

const protocol = loadProtocol('wine-8.0');

// How Wine's trace prints each field type: a printf format or a dump function.
function expectedFormat(type: string): string {
  const repr = FIELD_TYPES[type].repr;
  if ('kind' in repr) {
    const fn: Record<string, string> = {
      timeout_t: 'dump_timeout',
      abstime_t: 'dump_abstime',
      rectangle_t: 'dump_rectangle',
      apc_call_t: 'dump_apc_call',
      apc_result_t: 'dump_apc_result',
      async_data_t: 'dump_async_data',
      irp_params_t: 'dump_irp_params',
      'struct luid': 'dump_luid',
      generic_map_t: 'dump_generic_map',
      ioctl_code_t: 'dump_ioctl_code',
      hw_input_t: 'dump_hw_input',
    };
    return fn[repr.kind];
  }
  if (repr.read === 'u64') return 'dump_uint64';
  const p = repr.print;
  if (p === 'dec') return '%d';
  if (p === 'udec') return '%u';
  if (p === 'char') return '%c';
  return `%0${p.hexWidth}x`;
}

describe('generated protocol against Wine 8.0 own generated C', () => {
  let requestH = '';
  let traceC = '';
  beforeAll(() => {
    const src = ensureWineSource();
    requestH = readFileSync(join(src, 'server', 'request.h'), 'utf8');
    traceC = readFileSync(join(src, 'server', 'trace.c'), 'utf8');
  });

  it('has the 278 requests of Wine 8.0 in protocol.def order, protocol version 758', () => {
    expect(protocol.requests).toHaveLength(278);
    expect(protocol.protocolVersion).toBe(758);
    const names = [...traceC.matchAll(/^static void dump_(\w+)_request\(/gm)].map((m) => m[1]);
    expect(protocol.requests.map((r) => r.name)).toEqual(names);
  });

  it('lays out every field at the offset and every struct at the size request.h asserts', () => {
    const offsets = new Map<string, number>();
    for (const m of requestH.matchAll(/C_ASSERT\( FIELD_OFFSET\(struct (\w+)_(request|reply), (\w+)\) == (\d+) \);/g)) {
      offsets.set(`${m[1]}/${m[2]}/${m[3]}`, Number(m[4]));
    }
    const sizes = new Map<string, number>();
    for (const m of requestH.matchAll(/C_ASSERT\( sizeof\(struct (\w+)_(request|reply)\) == (\d+) \);/g)) {
      sizes.set(`${m[1]}/${m[2]}`, Number(m[3]));
    }
    expect(offsets.size).toBeGreaterThan(1000);
    let checked = 0;
    for (const r of protocol.requests) {
      for (const dir of ['request', 'reply'] as const) {
        for (const f of r[dir].fields) {
          expect(offsets.get(`${r.name}/${dir}/${f.name}`), `${r.name} ${dir} ${f.name}`).toBe(f.offset);
          checked++;
        }
        const size = sizes.get(`${r.name}/${dir}`);
        // request.h asserts the size of replies only when they have members.
        if (size !== undefined) expect(r[dir].fixedSize, `${r.name} ${dir} size`).toBe(size);
      }
    }
    expect(checked).toBe(offsets.size);
  });

  it('prints every member with the format, prefix and order of trace.c', () => {
    const bodies = new Map<string, string>();
    for (const m of traceC.matchAll(/^static void dump_(\w+)_(request|reply)\( const struct \w+ \*req \)\n\{\n([\s\S]*?)^\}/gm)) {
      bodies.set(`${m[1]}/${m[2]}`, m[3]);
    }
    for (const r of protocol.requests) {
      for (const dir of ['request', 'reply'] as const) {
        const body = bodies.get(`${r.name}/${dir}`);
        if (dir === 'reply' && !r.replyHasMembers) {
          expect(body, `${r.name} has no reply dumper in trace.c`).toBeUndefined();
          continue;
        }
        expect(body, `${r.name} ${dir} dumper`).toBeDefined();
        const theirs = [...body!.matchAll(/^\s+(?:fprintf\( stderr, "([ ,]+)(\w+)=(%\w+)"|(dump_\w+)\( "([ ,]+)(\w+)=")/gm)].map((m) =>
          m[1] !== undefined ? `${m[1]}${m[2]}=${m[3]}` : `${m[5]}${m[6]}=${m[4]}`,
        );
        const info = r[dir];
        const fieldType = new Map(info.fields.map((f) => [f.name, f.type]));
        const varargKind = new Map(info.varargs.map((v) => [v.name, v.kind]));
        const mine = info.members.map((name, i) => {
          const prefix = i === 0 ? ' ' : ', ';
          const type = fieldType.get(name);
          if (type) return `${prefix}${name}=${expectedFormat(type)}`;
          return `${prefix}${name}=dump_varargs_${varargKind.get(name)}`;
        });
        expect(mine, `${r.name} ${dir}`).toEqual(theirs);
      }
    }
  });

  it('knows the status names of trace.c with the same values', () => {
    const theirs = [...traceC.matchAll(/^\s+\{ "(\w+)",\s+/gm)].map((m) => m[1]);
    expect(protocol.statusName(0)).toBe('0');
    expect(protocol.statusName(0xc0000022)).toBe('ACCESS_DENIED');
    expect(protocol.statusName(0xc0000034)).toBe('OBJECT_NAME_NOT_FOUND');
    expect(protocol.statusName(0x12345678)).toBe('12345678');
    const ours = protocol.statusNames.map((s) => s[0]);
    expect(ours).toEqual(theirs);
  });
});
