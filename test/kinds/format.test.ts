// Golden trace text for every kind, from hand-built bytes. The expected
// strings were derived from reading wineserver's trace.c (dump_* and
// dump_varargs_*), fd.c (get_timeout_str) and unicode.c (dump_strW) of Wine 8.0.

import { describe, expect, it } from 'vitest';
import { fixedKinds, varargKinds } from '../../requests/kinds/index.ts';
import type { FixedKind, TraceContext, VarargKind } from '../../requests/kinds/kind.ts';
import { formatTimeout, formatUint64 } from '../../requests/kinds/format.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import { le } from './le-builder.ts';

const NOW = 0x01d9e0c012345678n;
const protocol = loadProtocol('wine-8.0');
const statusName = (status: number) => protocol.statusName(status);
const ctx: TraceContext = { now: NOW, statusName };

function trace(kindName: keyof typeof varargKinds, bytes: Buffer, context: TraceContext = ctx): string | null {
  const kind = varargKinds[kindName] as VarargKind<unknown>;
  const { value } = kind.decode(bytes, 0, bytes.length);
  return kind.format(value, context);
}

function consumed(kindName: keyof typeof varargKinds, bytes: Buffer): number {
  return (varargKinds[kindName] as VarargKind<unknown>).decode(bytes, 0, bytes.length).size;
}

function traceFixed(type: keyof typeof fixedKinds, bytes: Buffer, context: TraceContext = ctx): string | null {
  const kind = fixedKinds[type] as FixedKind<unknown>;
  expect(bytes.length).toBeLessThanOrEqual(kind.size);
  const whole = Buffer.concat([bytes, Buffer.alloc(kind.size - bytes.length)]);
  return kind.format(kind.decode(whole, 0), context);
}

describe('number helpers', () => {
  it('prints 64-bit values like dump_uint64', () => {
    expect(formatUint64(0n)).toBe('00000000');
    expect(formatUint64(0xabcn)).toBe('00000abc');
    expect(formatUint64(0x100000000n)).toBe('100000000');
    expect(formatUint64(0x7ff00000a000n)).toBe('7ff00000a000');
    expect(formatUint64(-1n)).toBe('ffffffffffffffff');
  });

  it('prints timeouts like get_timeout_str', () => {
    expect(formatTimeout(0n, ctx)).toBe('0');
    expect(formatTimeout(0x7fffffffffffffffn, ctx)).toBe('infinite');
    expect(formatTimeout(-15_000_000n, ctx)).toBe('+1.5000000');
    expect(formatTimeout(-1n, ctx)).toBe('+0.0000001');
    expect(formatTimeout(-600_000_000n, ctx)).toBe('+60.0000000');
    expect(formatTimeout(NOW + 15_000_000n, ctx)).toBe('1d9e0c013193838 (+1.5000000)');
    expect(formatTimeout(NOW, ctx)).toBe('1d9e0c012345678 (+0.0000000)');
    expect(formatTimeout(NOW - 5_000_000n, ctx)).toBe('1d9e0c011e80b38 (-0.5000000)');
    // A whole number of seconds in the past prints Wine's way.
    expect(formatTimeout(NOW - 20_000_000n, ctx)).toBe('1d9e0c011032978 (-1.10000000)');
    expect(formatTimeout(0x12345678n, {})).toBe('012345678');
    expect(formatTimeout(-(1n << 63n), ctx)).toBe('+922337203685.4775808');
  });

  it('names statuses like get_status_name', () => {
    expect(statusName(0)).toBe('0');
    expect(statusName(0x103)).toBe('PENDING');
    expect(statusName(0xc0000022)).toBe('ACCESS_DENIED');
    expect(statusName(0xc0000034)).toBe('OBJECT_NAME_NOT_FOUND');
    expect(statusName(0xc0010000 | 1400)).toBe('ERROR_INVALID_WINDOW_HANDLE');
    expect(statusName(0xc0010000 | 10004)).toBe('WSAEINTR');
    expect(statusName(0x1234)).toBe('1234');
  });
});

describe('unicode_str', () => {
  const t = (s: string) => trace('unicode_str', le().wide(s).build());
  it('quotes plain text', () => {
    expect(t('')).toBe('L""');
    expect(t('foo')).toBe('L"foo"');
    expect(t('\\??\\C:\\x')).toBe('L"\\\\??\\\\C:\\\\x"');
    expect(t('say "hi"')).toBe('L"say \\"hi\\""');
  });
  it('escapes control characters with C escapes or octal', () => {
    expect(t('foo\n')).toBe('L"foo\\n"');
    expect(t('\t\r\x07\x08\x0b\x0c\x1b')).toBe('L"\\t\\r\\a\\b\\v\\f\\e"');
    expect(t('a\x01b')).toBe('L"a\\1b"');
    expect(t('a\x017')).toBe('L"a\\0017"');
    expect(t('\x1f')).toBe('L"\\37"');
    expect(t('a\x7f')).toBe('L"a\x7f"');
  });
  it('drops only a final NUL', () => {
    expect(t('ab\0')).toBe('L"ab"');
    expect(t('a\0b')).toBe('L"a\\0b"');
    expect(t('a\x001')).toBe('L"a\\0001"');
    expect(t('\0\0')).toBe('L"\\0"');
  });
  it('hex-escapes non-ASCII, padding to 4 digits before a hex digit', () => {
    expect(t('\u00e9')).toBe('L"\\xe9"');
    expect(t('\u00e9g')).toBe('L"\\xe9g"');
    expect(t('\u00e9a')).toBe('L"\\x00e9a"');
    expect(t('\u00e9F')).toBe('L"\\x00e9F"');
    expect(t('\u00e99')).toBe('L"\\x00e99"');
    expect(t('\u4e2d\u6587')).toBe('L"\\x4e2d\\x6587"');
    expect(t('\ud800x')).toBe('L"\\xd800x"');
  });
  it('ignores an odd trailing byte', () => {
    expect(trace('unicode_str', le().wide('A').u8(0x42).build())).toBe('L"A"');
    expect(trace('unicode_str', le().u8(0x42).build())).toBe('L""');
  });
});

describe('bytes, message_data, string', () => {
  it('dumps bytes as two-digit hex', () => {
    expect(trace('bytes', Buffer.alloc(0))).toBe('{}');
    expect(trace('bytes', le().u8(0, 0xff, 0x10).build())).toBe('{00,ff,10}');
    expect(trace('message_data', le().u8(1, 2).build())).toBe('{01,02}');
  });
  it('stops after 1024 bytes and prints the total', () => {
    const text = trace('bytes', Buffer.alloc(1025, 0xab));
    expect(text).toBe(`{${Array(1024).fill('ab').join(',')}...(total 1025)}`);
    expect(trace('bytes', Buffer.alloc(1024, 1))).toBe(`{${Array(1024).fill('01').join(',')}}`);
  });
  it('prints narrow strings up to the first NUL', () => {
    expect(trace('string', le().ascii('/tmp/.wine-0/socket').build())).toBe('"/tmp/.wine-0/socket"');
    expect(trace('string', le().ascii('a').u8(0).ascii('b').build())).toBe('"a"');
    expect(trace('string', Buffer.alloc(0))).toBe('""');
    expect(trace('string', le().ascii('q"\\').build())).toBe('"q"\\"');
  });
});

describe('numeric arrays', () => {
  it('uints, ints, user_handles, ushorts, uints64', () => {
    expect(trace('uints', le().u32(1, 0xffffffff).build())).toBe('{00000001,ffffffff}');
    expect(trace('uints', le().u32(1).u16(7).build())).toBe('{00000001}');
    expect(trace('uints', Buffer.alloc(0))).toBe('{}');
    expect(trace('ints', le().u32(-1, 5, 0x80000000).build())).toBe('{-1,5,-2147483648}');
    expect(trace('user_handles', le().u32(0x10020, 0x20).build())).toBe('{00010020,00000020}');
    expect(trace('ushorts', le().u16(0x14c, 0x8664).u8(1).build())).toBe('{014c,8664}');
    expect(trace('uints64', le().u64(1n, 0x100000000n, -1n).build())).toBe('{00000001,100000000,ffffffffffffffff}');
  });
  it('rectangles', () => {
    expect(trace('rectangles', le().u32(0, 0, 10, 10, -1, -2, 3, 4).build())).toBe('{{0,0;10,10},{-1,-2;3,4}}');
  });
  it('luid_attr prints the luid as one hex number, high part first', () => {
    expect(trace('luid_attr', le().u32(0x17, 1, 3).u32(0xffffffff, 0xffffffff, 0).build())).toBe(
      '{{luid=0000000100000017,attrs=3},{luid=ffffffffffffffff,attrs=0}}',
    );
  });
  it('properties and cursor_positions', () => {
    expect(trace('properties', le().u32(0xc001, 1).u64(0x123456789n).build())).toBe('{{atom=c001,str=1,data=123456789}}');
    expect(trace('cursor_positions', le().u32(-5, 10, 1000, 0).u64(0n).u32(1, 2, 3, 0).u64(0x1n).build())).toBe(
      '{{x=-5,y=10,time=1000,info=00000000},{x=1,y=2,time=3,info=00000001}}',
    );
  });
  it('rawinput_devices and handle_infos leave a dangling comma before a partial element', () => {
    const device = le().u16(1, 2).u32(0x100, 0x10020);
    expect(trace('rawinput_devices', device.build())).toBe('{{usage_page=0001,usage=0002,flags=00000100,target=00010020}}');
    expect(trace('rawinput_devices', device.u8(9).build())).toBe('{{usage_page=0001,usage=0002,flags=00000100,target=00010020},}');
    expect(trace('rawinput_devices', le().u8(9).build())).toBe('{}');
    const handle = le().u32(0x20, 4, 0x1f0fff, 0, 7);
    expect(trace('handle_infos', handle.build())).toBe('{{owner=0020,handle=0004,access=001f0fff,attributes=00000000,type=7}}');
    expect(trace('handle_infos', handle.u32(1).build())).toBe('{{owner=0020,handle=0004,access=001f0fff,attributes=00000000,type=7},}');
  });
});

describe('sid, sids', () => {
  it('prints S-R-A-S...', () => {
    expect(trace('sid', le().sid(1, 5, 32, 544).build())).toBe('S-1-5-32-544');
    expect(trace('sid', le().sid(1, 5, 21, 1, 2, 3, 1000).build())).toBe('S-1-5-21-1-2-3-1000');
    expect(trace('sid', le().sid(1, 1, 0).u8(0xee).build())).toBe('S-1-1-0');
    expect(trace('sid', le().sid(1, 16, 0x2000).build())).toBe('S-1-16-8192');
  });
  it('prints only the low 32 bits of the authority', () => {
    expect(trace('sid', le().u8(1, 0, 0xff, 0xff, 0, 0, 0, 5).build())).toBe('S-1-5');
  });
  it('prints nothing at all (null) for an empty sid, <invalid> for a short one', () => {
    expect(trace('sid', Buffer.alloc(0))).toBeNull();
    expect(trace('sid', le().u8(1, 0, 0, 0).build())).toBe('<invalid>');
    expect(trace('sid', le().u8(1, 2, 0, 0, 0, 0, 0, 5).u32(32).build())).toBe('<invalid>');
  });
  it('lists sids and reports a bad tail', () => {
    expect(trace('sids', le().sid(1, 5, 18).sid(1, 1, 0).build())).toBe('{S-1-5-18,S-1-1-0}');
    expect(trace('sids', le().sid(1, 5, 18).u8(1, 2, 3).build())).toBe('{S-1-5-18,bad len 3}');
    expect(trace('sids', le().u8(1, 2, 3).build())).toBe('{bad len 3}');
    expect(trace('sids', Buffer.alloc(0))).toBe('{}');
  });
});

/** An ACE with a sid body: type, flags, size, mask, sid. */
function ace(type: number, flags: number, mask: number, revision: number, authority: number, ...subs: number[]) {
  const sid = le().sid(revision, authority, ...subs).build();
  return le().u8(type, flags).u16(8 + sid.length).u32(mask).raw(sid).build();
}

function acl(...aces: Buffer[]) {
  const body = Buffer.concat(aces);
  return le().u8(2, 0).u16(8 + body.length).u16(aces.length).u16(0).raw(body).build();
}

describe('acl', () => {
  it('names the known ACE types', () => {
    const bytes = acl(ace(0, 3, 0x1f01ff, 1, 5, 18), ace(1, 0, 0x10000000, 1, 1, 0), ace(2, 0xc0, 1, 1, 5, 32, 544), ace(3, 0, 2, 1, 5, 7), ace(0x11, 0, 1, 1, 16, 0x2000));
    expect(trace('acl', bytes)).toBe(
      '{{type=ACCESS_ALLOWED,flags=3,mask=1f01ff,sid=S-1-5-18},{type=ACCESS_DENIED,flags=0,mask=10000000,sid=S-1-1-0},' +
        '{type=SYSTEM_AUDIT,flags=c0,mask=1,sid=S-1-5-32-544},{type=SYSTEM_ALARM,flags=0,mask=2,sid=S-1-5-7},' +
        '{type=SYSTEM_MANDATORY_LABEL,flags=0,mask=1,sid=S-1-16-8192}}',
    );
  });
  it('prints unknown ACE types in hex without a sid', () => {
    const other = le().u8(5, 1).u16(12).u32(0xffffffff).u32(0).build();
    expect(trace('acl', acl(other))).toBe('{{type=05,flags=1,mask=ffffffff}}');
  });
  it('handles empty, short and truncated acls', () => {
    expect(trace('acl', Buffer.alloc(0))).toBe('{}');
    expect(trace('acl', acl())).toBe('{}');
    expect(trace('acl', le().u8(2, 0).u16(8).build())).toBe('{<invalid acl>}');
    // Claims two aces, holds one: the second is skipped.
    const one = ace(0, 0, 1, 1, 5, 18);
    expect(trace('acl', le().u8(2, 0).u16(100).u16(2).u16(0).raw(one).build())).toBe('{{type=ACCESS_ALLOWED,flags=0,mask=1,sid=S-1-5-18}}');
    // An ACE whose sid does not fit its size.
    const cramped = le().u8(0, 0).u16(12).u32(1).u8(1, 1, 0, 0, 0, 0, 0, 5).build();
    expect(trace('acl', acl(cramped).subarray(0, 8 + 12))).toBe('{{type=ACCESS_ALLOWED,flags=0,mask=1,sid=<invalid>}}');
  });
});

function sd(control: number, owner: Buffer, group: Buffer, sacl: Buffer, dacl: Buffer) {
  return le().u32(control, owner.length, group.length, sacl.length, dacl.length).raw(owner).raw(group).raw(sacl).raw(dacl).build();
}

describe('security_descriptor', () => {
  const admins = le().sid(1, 5, 32, 544).build();
  const system = le().sid(1, 5, 18).build();
  it('prints control, owner, group, sacl and dacl', () => {
    expect(trace('security_descriptor', sd(0x8004, admins, system, Buffer.alloc(0), acl()))).toBe(
      '{control=00008004,owner=S-1-5-32-544,group=S-1-5-18,sacl={},dacl={}}',
    );
    expect(trace('security_descriptor', sd(4, Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0), acl(ace(0, 0, 0x1f0003, 1, 1, 0))))).toBe(
      '{control=00000004,owner=<not present>,group=<not present>,sacl={},dacl={{type=ACCESS_ALLOWED,flags=0,mask=1f0003,sid=S-1-1-0}}}',
    );
  });
  it('stops without closing the brace when a length does not fit', () => {
    const bad = le().u32(4, 12, 0, 0, 0).raw(admins.subarray(0, 8)).build();
    expect(trace('security_descriptor', bad)).toBe('{control=00000004');
    const badDacl = le().u32(4, 12, 0, 0, 100).raw(system).build();
    expect(trace('security_descriptor', badDacl)).toBe('{control=00000004,owner=S-1-5-18,group=<not present>,sacl={}');
    expect(trace('security_descriptor', le().u32(4, 0).build())).toBe('{}');
    expect(trace('security_descriptor', Buffer.alloc(0))).toBe('{}');
  });
});

describe('object_attributes', () => {
  it('prints rootdir, attributes, sd and name, and consumes the padded size', () => {
    const name = '\\BaseNamedObjects\\foo';
    const bytes = le().u32(0x1c, 0x40, 0, name.length * 2).wide(name).build();
    const withNext = Buffer.concat([bytes, Buffer.alloc(2), le().u32(0xabcd).build()]);
    expect(trace('object_attributes', bytes)).toBe('{rootdir=001c,attributes=00000040,sd={},name=L"\\\\BaseNamedObjects\\\\foo"}');
    expect(consumed('object_attributes', withNext)).toBe(16 + 44);
  });
  it('includes the security descriptor', () => {
    const desc = sd(4, le().sid(1, 5, 18).build(), Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0));
    const bytes = le().u32(0, 0x80, desc.length, 2).raw(desc).wide('x').zeros(2).build();
    expect(trace('object_attributes', bytes)).toBe(
      '{rootdir=0000,attributes=00000080,sd={control=00000004,owner=S-1-5-18,group=<not present>,sacl={},dacl={}},name=L"x"}',
    );
    expect(consumed('object_attributes', bytes)).toBe(bytes.length);
  });
  it('reports invalid lengths and empty data', () => {
    expect(trace('object_attributes', le().u32(0, 0, 0, 8).build())).toBe('{***invalid***}');
    expect(trace('object_attributes', le().u32(0, 0).build())).toBe('{***invalid***}');
    expect(trace('object_attributes', Buffer.alloc(0))).toBe('{}');
    expect(consumed('object_attributes', Buffer.alloc(0))).toBe(0);
  });
  it('reads an odd-length name the way wineserver does', () => {
    // name_len 3 with 3 bytes present: one UTF-16 unit is printed, 20 bytes consumed.
    const bytes = le().u32(0, 0, 0, 3).wide('A').u8(0x42).build();
    expect(trace('object_attributes', bytes)).toBe('{rootdir=0000,attributes=00000000,sd={},name=L"A"}');
    expect(consumed('object_attributes', bytes)).toBe(19);
  });
});

describe('select_op', () => {
  it('prints each operation', () => {
    expect(trace('select_op', Buffer.alloc(0))).toBe('{}');
    expect(trace('select_op', le().u32(0).build())).toBe('{NONE}');
    expect(trace('select_op', le().u32(1, 4, 8).build())).toBe('{WAIT,handles={0004,0008}}');
    expect(trace('select_op', le().u32(2, 0x10).build())).toBe('{WAIT_ALL,handles={0010}}');
    expect(trace('select_op', le().u32(1).build())).toBe('{WAIT}');
    expect(trace('select_op', le().u32(1).u16(4).build())).toBe('{WAIT,handles={}}');
    expect(trace('select_op', le().u32(3, 0x10, 0x14).build())).toBe('{SIGNAL_AND_WAIT,signal=0014,wait=0010}');
    expect(trace('select_op', le().u32(4, 0x40).u64(0x7ffe0000n).build())).toBe('{KEYED_EVENT_WAIT,handle=0040,key=7ffe0000}');
    expect(trace('select_op', le().u32(5, 0x44).u64(-1n).build())).toBe('{KEYED_EVENT_RELEASE,handle=0044,key=ffffffffffffffff}');
    expect(trace('select_op', le().u32(9).build())).toBe('{op=9}');
  });
  it('prints at most 64 handles', () => {
    const handles = Array.from({ length: 70 }, (_, i) => i + 1);
    const text = trace('select_op', le().u32(1, ...handles).build());
    expect(text).toBe(`{WAIT,handles={${handles.slice(0, 64).map((h) => h.toString(16).padStart(4, '0')).join(',')}}}`);
  });
});

describe('fixed structured types', () => {
  it('timeout_t and abstime_t', () => {
    expect(traceFixed('timeout_t', le().u64(-10_000_000n).build())).toBe('+1.0000000');
    expect(traceFixed('timeout_t', le().u64(0x7fffffffffffffffn).build())).toBe('infinite');
    expect(traceFixed('abstime_t', le().u64(NOW + 10_000_000n).build())).toBe('1d9e0c012ccecf8 (+1.0000000)');
    const mono = { now: NOW, monotonicNow: 50_000_000n } as TraceContext;
    expect(traceFixed('abstime_t', le().u64(-80_000_000n).build(), mono)).toBe('+3.0000000');
    expect(traceFixed('abstime_t', le().u64(-20_000_000n).build(), mono)).toBe('0');
    expect(traceFixed('abstime_t', le().u64(0n).build(), mono)).toBe('0');
  });
  it('rectangle_t, struct luid, generic_map_t', () => {
    expect(traceFixed('rectangle_t', le().u32(1, -2, 3, 4).build())).toBe('{1,-2;3,4}');
    expect(traceFixed('struct luid', le().u32(5, -1).build())).toBe('-1.5');
    expect(traceFixed('struct luid', le().u32(0xffffffff, 0).build())).toBe('0.4294967295');
    expect(traceFixed('generic_map_t', le().u32(0x20019, 0x20006, 0x20019, 0xf003f).build())).toBe('{r=00020019,w=00020006,x=00020019,a=000f003f}');
  });
  it('ioctl_code_t names the codes wineserver knows', () => {
    expect(traceFixed('ioctl_code_t', le().u32(0x110008).build())).toBe('FSCTL_PIPE_LISTEN');
    expect(traceFixed('ioctl_code_t', le().u32(0x0011400c).build())).toBe('FSCTL_PIPE_PEEK');
    expect(traceFixed('ioctl_code_t', le().u32(0x00504000).build())).toBe('IOCTL_CONDRV_GET_MODE');
    expect(traceFixed('ioctl_code_t', le().u32(0x001b0044).build())).toBe('IOCTL_SERIAL_SET_WAIT_MASK');
    expect(traceFixed('ioctl_code_t', le().u32(0x28000017).build())).toBe('WS_SIO_ADDRESS_LIST_CHANGE');
    expect(traceFixed('ioctl_code_t', le().u32(0x12345).build())).toBe('00012345');
  });
  it('async_data_t', () => {
    expect(traceFixed('async_data_t', le().u32(4, 0).u64(0x1000n, 0x140001000n, 0n, 1n).build())).toBe(
      '{handle=0004,event=0000,iosb=00001000,user=140001000,apc=00000000,apc_context=00000001}',
    );
  });
});

describe('apc_call_t', () => {
  const t = (b: Buffer) => traceFixed('apc_call_t', b);
  it('prints every call type', () => {
    expect(t(le().u32(0).build())).toBe('{APC_NONE}');
    expect(t(le().u32(1, 0).u64(0x401000n, 1n, 2n, 0x100000000n).build())).toBe('{APC_USER,func=00401000,args={00000001,00000002,100000000}}');
    expect(t(le().u32(2, 0x103).u64(0x10n, 0x20n).u32(512).build())).toBe('{APC_ASYNC_IO,user=00000010,sb=00000020,status=PENDING,result=512}');
    expect(t(le().u32(3, 0x3000).u64(0n, 0x10000n, 0n).u32(4).build())).toBe(
      '{APC_VIRTUAL_ALLOC,addr==00000000,size=00010000,zero_bits=00000000,op_type=3000,prot=4}',
    );
    expect(t(le().u32(4, 0x1000).u64(0x10000n, 0x2000n, 0x7fffffffn, 0x10000n).u32(0x40).build())).toBe(
      '{APC_VIRTUAL_ALLOC,addr==00010000,size=00002000,limit=7fffffff,align=00010000,op_type=1000,prot=40}',
    );
    expect(t(le().u32(5, 0x8000).u64(0x10000n, 0n).build())).toBe('{APC_VIRTUAL_FREE,addr=00010000,size=00000000,op_type=8000}');
    expect(t(le().u32(6, 0).u64(0x7ffe0000n).build())).toBe('{APC_VIRTUAL_QUERY,addr=7ffe0000}');
    expect(t(le().u32(7, 0x20).u64(0x1000n, 0x1000n).build())).toBe('{APC_VIRTUAL_PROTECT,addr=00001000,size=00001000,prot=20}');
    expect(t(le().u32(8, 0).u64(1n, 2n).build())).toBe('{APC_VIRTUAL_FLUSH,addr=00000001,size=00000002}');
    expect(t(le().u32(9, 0).u64(1n, 2n).build())).toBe('{APC_VIRTUAL_LOCK,addr=00000001,size=00000002}');
    expect(t(le().u32(10, 0).u64(1n, 2n).build())).toBe('{APC_VIRTUAL_UNLOCK,addr=00000001,size=00000002}');
    expect(t(le().u32(11, 0x2c).u64(0n, 0x1000n, 0x200n, 0n).u32(0x1000000, 2).build())).toBe(
      '{APC_MAP_VIEW,handle=002c,addr=00000000,size=00001000,offset=00000200,zero_bits=00000000,alloc_type=1000000,prot=2}',
    );
    expect(t(le().u32(12, 0).u64(0x10000n).build())).toBe('{APC_UNMAP_VIEW,addr=00010000}');
    expect(t(le().u32(13, 4).u64(0x401000n, 7n, 0n, 0x100000n, 0x1000n).build())).toBe(
      '{APC_CREATE_THREAD,func=00401000,arg=00000007,zero_bits=00000000,reserve=00100000,commit=00001000,flags=4}',
    );
    expect(t(le().u32(14, 0x10, 0x14, 0x1f0fff, 2, 4).build())).toBe(
      '{APC_DUP_HANDLE,src_handle=0010,dst_process=0014,access=1f0fff,attributes=2,options=4}',
    );
    expect(t(le().u32(99).build())).toBe('{type=99}');
  });
});

describe('apc_result_t and the apc_result vararg', () => {
  const t = (b: Buffer) => traceFixed('apc_result_t', b);
  it('prints every result type', () => {
    expect(t(le().u32(0).build())).toBe('{}');
    expect(t(le().u32(2, 0, 42).build())).toBe('{APC_ASYNC_IO,status=0,total=42}');
    expect(t(le().u32(3, 0xc0000017).u64(0n, 0n).build())).toBe('{APC_VIRTUAL_ALLOC,status=NO_MEMORY,addr=00000000,size=00000000}');
    expect(t(le().u32(4, 0).build())).toBe('{type=4}');
    expect(t(le().u32(6, 0).u64(0x10000n, 0x10000n, 0x1000n).u16(0x1000, 4, 0x40, 0x20000).build())).toBe(
      '{APC_VIRTUAL_QUERY,status=0,base=00010000,alloc_base=00010000,size=00001000,state=1000,prot=4,alloc_prot=40,alloc_type=0}',
    );
    expect(t(le().u32(7, 0).u64(1n, 2n).u32(0x04).build())).toBe('{APC_VIRTUAL_PROTECT,status=0,addr=00000001,size=00000002,prot=4}');
    expect(t(le().u32(11, 0xc0000022).u64(0n, 0n).build())).toBe('{APC_MAP_VIEW,status=ACCESS_DENIED,addr=00000000,size=00000000}');
    expect(t(le().u32(12, 0xc0000019).build())).toBe('{APC_UNMAP_VIEW,status=NOT_MAPPED_VIEW}');
    expect(t(le().u32(13, 0, 0x20, 0x24).u64(0x7ffde000n).u32(0x50).build())).toBe('{APC_CREATE_THREAD,status=0,pid=0020,tid=0024,handle=0050}');
    expect(t(le().u32(14, 0, 0x48).build())).toBe('{APC_DUP_HANDLE,status=0,handle=0048}');
  });
  it('the vararg prints a whole result only', () => {
    expect(trace('apc_result', le().u32(14, 0, 0x48).zeros(28).build())).toBe('{APC_DUP_HANDLE,status=0,handle=0048}');
    expect(consumed('apc_result', Buffer.alloc(48))).toBe(40);
    expect(trace('apc_result', le().u32(14, 0, 0x48).build())).toBeNull();
  });
});

describe('irp_params_t', () => {
  const t = (b: Buffer) => traceFixed('irp_params_t', b);
  it('prints every irp type', () => {
    expect(t(le().u32(0).build())).toBe('{NONE}');
    expect(t(le().u32(1, 0x120089, 3, 0x40).u64(0xdeadbeef0n).u32(0x10).build())).toBe(
      '{CREATE,access=00120089,sharing=00000003,options=00000040,device=deadbeef0,file=00000010}',
    );
    expect(t(le().u32(2, 0).u64(0x1234n).build())).toBe('{CLOSE,file=00001234}');
    expect(t(le().u32(3, 1, 512, 0).u64(0x99n, 0x200n).build())).toBe('{READ,key=00000001,out_size=512,pos=00000200,file=00000099}');
    expect(t(le().u32(4, 2).u64(0x99n, 0x400n).build())).toBe('{WRITE,key=00000002,pos=00000400,file=00000099}');
    expect(t(le().u32(5, 0).u64(0x99n).build())).toBe('{FLUSH,file=00000099}');
    expect(t(le().u32(6, 0x110008, 0, 0).u64(0x99n).build())).toBe('{IOCTL,code=FSCTL_PIPE_LISTEN,out_size=0,file=00000099}');
    expect(t(le().u32(7, 5, 64, 0).u64(0x99n).build())).toBe('{VOLUME,class=5,out_size=64,file=00000099}');
    expect(t(le().u32(8, 0).u64(0x77n).build())).toBe('{FREE,obj=00000077}');
    expect(t(le().u32(9, 0).u64(0x66n).build())).toBe('{CANCEL,irp=00000066}');
    // An unknown type prints nothing, not even the field name.
    expect(t(le().u32(10).build())).toBeNull();
  });
});

describe('hw_input_t', () => {
  const t = (b: Buffer) => traceFixed('hw_input_t', b);
  it('prints mouse, keyboard and hardware input', () => {
    expect(t(le().u32(0, -3, 4, 0x78, 1, 1000).u64(0n).build())).toBe('{type=MOUSE,x=-3,y=4,data=00000078,flags=00000001,time=1000,info=00000000}');
    expect(t(le().u32(1).u16(0x41, 0x1e).u32(2, 5).u64(0x10n).build())).toBe('{type=KEYBOARD,vkey=0041,scan=001e,flags=00000002,time=5,info=00000010}');
    expect(t(le().u32(2, 0x100).u64(7n).build())).toBe('{type=HARDWARE,msg=0100,lparam=00000007}');
    expect(t(le().u32(2, 0xff).u64(0n).u32(0, -1, 2, 3).build())).toBe(
      '{type=HARDWARE,msg=00ff,lparam=00000000,rawinput={type=MOUSE,x=-1,y=2,data=00000003}}',
    );
    expect(t(le().u32(2, 0xff).u64(0n).u32(1, 0x100).u16(0x41, 0x1e).build())).toBe(
      '{type=HARDWARE,msg=00ff,lparam=00000000,rawinput={type=KEYBOARD,message=0100,vkey=0041,scan=001e}}',
    );
    expect(t(le().u32(2, 0xfe).u64(0n).u32(2, 3, 4).u16(1, 5).u32(2, 64).build())).toBe(
      '{type=HARDWARE,msg=00fe,lparam=00000000,rawinput={type=HID,device=0003,param=0004,page=0001,usage=0005,count=2,length=64}}',
    );
    expect(t(le().u32(2, 0xff).u64(0n).u32(9).build())).toBe('{type=HARDWARE,msg=00ff,lparam=00000000,rawinput={type=0009}}');
    expect(t(le().u32(7).build())).toBe('{type=0007}');
  });
});

describe('startup_info', () => {
  const header = (lens: number[]) =>
    le()
      .u32(1, 2, 0x1c, 0x20, 0x24, 0x28, 10, 20, 800, 600, 80, 25, 0x1f, 0x101, 1)
      .u32(...lens);
  const fixed = 'debug_flags=1,console_flags=2,console=001c,hstdin=0020,hstdout=0024,hstderr=0028,x=10,y=20,xsize=800,ysize=600,xchars=80,ychars=25,attribute=1f,flags=101,show=1';
  it('prints the header and the eight strings', () => {
    const bytes = header([6, 0, 4, 2, 0, 0, 0, 0]).wide('C:\\').wide('a"').wide('b').build();
    expect(trace('startup_info', bytes)).toBe(
      `{${fixed},curdir=L"C:\\\\",dllpath=L"",imagepath=L"a\\"",cmdline=L"b",title=L"",desktop=L"",shellinfo=L"",runtime=L""}`,
    );
  });
  it('cuts strings at the end of the data', () => {
    const bytes = header([6, 8, 0, 0, 0, 0, 0, 0]).wide('C:\\').wide('ab').build();
    expect(trace('startup_info', bytes)).toBe(`{${fixed},curdir=L"C:\\\\",dllpath=L"ab",imagepath=L"",cmdline=L"",title=L"",desktop=L"",shellinfo=L"",runtime=L""}`);
  });
  it('reads a short header as zeros', () => {
    expect(trace('startup_info', le().u32(3).build())).toBe(
      '{debug_flags=3,console_flags=0,console=0000,hstdin=0000,hstdout=0000,hstderr=0000,x=0,y=0,xsize=0,ysize=0,xchars=0,ychars=0,attribute=00,flags=0,show=0' +
        ',curdir=L"",dllpath=L"",imagepath=L"",cmdline=L"",title=L"",desktop=L"",shellinfo=L"",runtime=L""}',
    );
  });
});

describe('contexts', () => {
  const context = (machine: number, flags: number, fill: (b: Buffer) => void = () => {}) => {
    const b = Buffer.alloc(1720);
    b.writeUInt32LE(machine, 0);
    b.writeUInt32LE(flags, 4);
    fill(b);
    return b;
  };
  it('prints x86_64 control and integer registers', () => {
    const bytes = context(0x8664, 0x3, (b) => {
      b.writeBigUInt64LE(0x140001000n, 8);
      b.writeBigUInt64LE(0x22f000n, 16);
      b.writeBigUInt64LE(0x22ef00n, 24);
      b.writeUInt32LE(0x33, 32);
      b.writeUInt32LE(0x2b, 36);
      b.writeUInt32LE(0x246, 40);
      b.writeBigUInt64LE(1n, 48);
      b.writeBigUInt64LE(0xffffffffffffffffn, 48 + 13 * 8);
    });
    const integer = ['rax=00000001', 'rbx=00000000', 'rcx=00000000', 'rdx=00000000', 'rsi=00000000', 'rdi=00000000', 'r8=00000000', 'r9=00000000', 'r10=00000000', 'r11=00000000', 'r12=00000000', 'r13=00000000', 'r14=00000000', 'r15=ffffffffffffffff'];
    expect(trace('contexts', bytes)).toBe(`{{machine=x86_64,rip=140001000,rbp=0022f000,rsp=0022ef00,cs=0033,ss=002b,flags=00000246,${integer.join(',')}}}`);
  });
  it('prints i386 registers in wineserver order', () => {
    const bytes = context(0x14c, 0x1 | 0x4 | 0x8, (b) => {
      [0x401000, 0x22f000, 0x22ef00, 0x246, 0x23, 0x2b].forEach((v, i) => b.writeUInt32LE(v, 8 + 4 * i));
      [0x2b, 0x2b, 0x53, 0x2b].forEach((v, i) => b.writeUInt32LE(v, 296 + 4 * i));
      b.writeUInt32LE(0x37f, 312);
      b[344] = 1; // fp.reg0 low byte
      b[344 + 9] = 0x40; // fp.reg0 top byte of the 80-bit value
    });
    const fp = ',fp.ctrl=0000037f,fp.status=00000000,fp.tag=00000000,fp.err_off=00000000,fp.err_sel=00000000,fp.data_off=00000000,fp.data_sel=00000000,fp.cr0npx=00000000';
    const regs = ',fp.reg0=40000000000000000001,fp.reg1=0,fp.reg2=0,fp.reg3=0,fp.reg4=0,fp.reg5=0,fp.reg6=0,fp.reg7=0';
    expect(trace('contexts', bytes)).toBe(`{{machine=i386,eip=00401000,esp=0022ef00,ebp=0022f000,eflags=00000246,cs=0023,ss=002b,ds=002b,es=002b,fs=0053,gs=002b${fp}${regs}}}`);
  });
  it('prints arm64 q registers high half first', () => {
    const bytes = context(0xaa64, 0x8, (b) => {
      b.writeBigUInt64LE(0x1n, 312); // q0.low
      b.writeBigUInt64LE(0x2n, 320); // q0.high
      b.writeUInt32LE(0x10, 824);
    });
    const q = Array.from({ length: 32 }, (_, i) => (i === 0 ? 'q0=0000000200000001' : `q${i}=0000000000000000`));
    expect(trace('contexts', bytes)).toBe(`{{machine=arm64,${q.join(',')},fpcr=00000010,fpsr=00000000}}`);
  });
  it('handles several, unknown, empty and short contexts', () => {
    expect(trace('contexts', Buffer.alloc(0))).toBe('{}');
    expect(trace('contexts', Buffer.concat([context(0x8664, 0), context(0x1234, 0xff)]))).toBe('{{machine=x86_64},{machine=1234}}');
    expect(trace('contexts', le().u32(0x8664, 0x1).u64(0x1000n).build())).toBe(
      '{{machine=x86_64,rip=00001000,rbp=00000000,rsp=00000000,cs=0000,ss=0000,flags=00000000}}',
    );
    expect(trace('contexts', le().u16(0x14c).build())).toBe('{{machine=i386}}');
  });
});

describe('pe_image_info', () => {
  it('prints every field', () => {
    const bytes = le()
      .u64(0x140000000n, 0x100000n, 0x1000n)
      .u32(0x1540, 0x2d000, 0, 2)
      .u16(0, 6, 6, 0, 0x22, 0x8160, 0x8664)
      .u8(1, 0x40)
      .u32(0, 0x400, 0x2a000, 0x3f2e1, 0, 0)
      .build();
    expect(trace('pe_image_info', bytes)).toBe(
      '{base=140000000,stack_size=00100000,stack_commit=00001000,entry_point=00001540,map_size=0002d000,zerobits=00000000,subsystem=00000002' +
        ',subsystem_minor=0000,subsystem_major=0006,osversion_major=0006,osversion_minor=0000,image_charact=0022,dll_charact=8160,machine=8664' +
        ',contains_code=1,image_flags=40,loader_flags=00000000,header_size=00000400,file_size=0002a000,checksum=0003f2e1}',
    );
    expect(consumed('pe_image_info', Buffer.concat([bytes, Buffer.alloc(8)]))).toBe(80);
  });
  it('prints {} when empty and zero-fills a short one', () => {
    expect(trace('pe_image_info', Buffer.alloc(0))).toBe('{}');
    expect(trace('pe_image_info', le().u64(0x10000n).build())).toMatch(/^\{base=00010000,stack_size=00000000,.*checksum=00000000\}$/);
  });
});

describe('debug_event', () => {
  const event = (b: Buffer) => Buffer.concat([b, Buffer.alloc(160 - b.length)]);
  it('prints each event code', () => {
    expect(trace('debug_event', event(le().u32(0).build()))).toBe('{idle}');
    expect(trace('debug_event', event(le().u32(1).build()))).toBe('{pending}');
    expect(trace('debug_event', event(le().u32(2, 0x30).u64(0x401000n).build()))).toBe('{create_thread,thread=0030,start=00401000}');
    expect(trace('debug_event', event(le().u32(3, 0x10, 0x14, 0x18).u64(0x400000n).u32(0, 0).u64(0x401000n).build()))).toBe(
      '{create_process,file=0010,process=0014,thread=0018,base=00400000,offset=0,size=0,start=00401000}',
    );
    expect(trace('debug_event', event(le().u32(4, 3).build()))).toBe('{exit_thread,code=3}');
    expect(trace('debug_event', event(le().u32(5, -1).build()))).toBe('{exit_process,code=-1}');
    expect(trace('debug_event', event(le().u32(9, 0x20).u64(0x7ff000000n).u32(0, 0).u64(0x1000n).build()))).toBe(
      '{load_dll,file=0020,base=7ff000000,offset=0,size=0,name=00001000}',
    );
    expect(trace('debug_event', event(le().u32(10, 0).u64(0x7ff000000n).build()))).toBe('{unload_dll,base=7ff000000}');
    expect(trace('debug_event', event(le().u32(42).build()))).toBe('{code=??? (42)}');
    expect(trace('debug_event', Buffer.alloc(0))).toBe('{}');
  });
  it('prints exception parameters with a comma after each', () => {
    const exc = (code: number, n: number) => event(le().u32(code, 1, 0xc0000005, 0).u64(0x1000n, 0x401000n).u32(n, 0).u64(1n, 0xdeadn).build());
    expect(trace('debug_event', exc(6, 2))).toBe('{exception,first=1,exc_code=c0000005,flags=00000000,record=00001000,address=00401000,params={00000001,0000dead,}}');
    expect(trace('debug_event', exc(7, 0))).toBe('{breakpoint,first=1,exc_code=c0000005,flags=00000000,record=00001000,address=00401000,params={}}');
    expect(trace('debug_event', exc(8, 1))).toBe('{singlestep,first=1,exc_code=c0000005,flags=00000000,record=00001000,address=00401000,params={00000001,}}');
  });
  it('zero-fills a short event', () => {
    expect(trace('debug_event', le().u32(4).build())).toBe('{exit_thread,code=0}');
  });
});

describe('process_info', () => {
  it('prints processes, names and threads', () => {
    const start = NOW - 10_000_000n * 60n;
    const bytes = le()
      .u64(start)
      .u32(6, 1, 8, 0x20, 0, 1, 12, 4242)
      .wide('a.e')
      .zeros(2)
      .u64(start)
      .u32(0x24, 8, -2, 4243)
      .u64(0x7ffde000n, 0x401000n)
      .build();
    expect(trace('process_info', bytes)).toBe(
      '{{start_time=1d9e0bfee711078 (-59.10000000),thread_count=1,priority=8,pid=0020,parent_pid=0000,session_id=00000001,handle_count=12,unix_pid=4242,' +
        'name=L"a.e",threads={{start_time=1d9e0bfee711078 (-59.10000000),tid=0024,base_priority=8,current_priority=-2,unix_tid=4243}}}}',
    );
    expect(trace('process_info', Buffer.alloc(0))).toBe('{}');
  });
});

describe('object_type_info and object_types_info', () => {
  const entry = (index: number, name: string) =>
    le()
      .u32(name.length * 2, index, 14, 30, 14, 30, 0x1f0003)
      .u32(0x20001, 0x20002, 0x120000, 0x1f0003)
      .wide(name)
      .zeros(((name.length * 2 + 2) & ~3) - name.length * 2)
      .build();
  const text = (index: number, name: string) =>
    `{index=${index},obj_count=14,handle_count=30,obj_max=14,handle_max=30,valid=001f0003,access={r=00020001,w=00020002,x=00120000,a=001f0003},name=L"${name}"}`;
  it('prints one entry', () => {
    expect(trace('object_type_info', entry(2, 'Event'))).toBe(text(2, 'Event'));
    expect(consumed('object_type_info', entry(2, 'Event'))).toBe(44 + 12);
    expect(trace('object_type_info', Buffer.alloc(0))).toBe('{}');
    expect(trace('object_type_info', le().u32(100).zeros(40).build())).toBe('{***invalid***}');
  });
  it('prints every entry of the list, each with a leading comma', () => {
    const bytes = Buffer.concat([entry(2, 'Event'), entry(7, 'Key')]);
    expect(trace('object_types_info', bytes)).toBe(`{,${text(2, 'Event')},${text(7, 'Key')}}`);
    expect(trace('object_types_info', Buffer.alloc(0))).toBe('{}');
    expect(trace('object_types_info', Buffer.concat([entry(1, 'A'), le().u32(9).build()]))).toBe(`{,${text(1, 'A')},{***invalid***}}`);
  });
});

describe('filesystem_event', () => {
  it('prints actions by name and names as text', () => {
    const bytes = le().u32(1, 7).ascii('new.txt').zeros(1).u32(9, 1).ascii('x').zeros(3).u32(0, 0).build();
    expect(trace('filesystem_event', bytes)).toBe('{{action=ADDED,name="new.txt"},{action=9,name="x"},{action=0,name=""}}');
    expect(trace('filesystem_event', le().u32(5, 2).ascii('ab').zeros(2).u32(3, 1).build())).toBe('{{action=RENAMED_NEW_NAME,name="ab"},}');
    expect(trace('filesystem_event', Buffer.alloc(0))).toBe('{}');
  });
});
