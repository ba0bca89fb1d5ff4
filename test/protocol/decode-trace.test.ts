// Decoding and tracing of frames spelled out byte by byte, and encoding
// compared against the same bytes.

import { describe, expect, it } from 'vitest';
import { loadProtocol } from '../../requests/protocol.ts';
import { ByteBuilder, replyFrame, requestFrame } from '../helpers/byte-builder.ts';

const protocol = loadProtocol('wine-8.0');
const code = (name: string) => protocol.codeOf(name);
const utf16 = (s: string) => new ByteBuilder().utf16(s).build();

describe('decode, trace and encode of hand-built frames', () => {
  it('add_atom request and reply', () => {
    const req = requestFrame(code('add_atom'), 0, () => {}, utf16('foo'));
    const decoded = protocol.decodeRequest(req);
    expect(decoded.name).toBe('add_atom');
    expect(protocol.formatRequest(0x24, decoded)).toBe('0024: add_atom( name=L"foo" )');
    expect(protocol.encodeRequest(decoded)).toEqual(req);

    const rep = replyFrame(0, (b) => b.u32(0xc001));
    const reply = protocol.decodeReply(code('add_atom'), rep);
    expect(reply.body).toEqual({ atom: 0xc001 });
    expect(protocol.formatReply(0x24, reply)).toBe('0024: add_atom() = 0 { atom=c001 }');
    expect(protocol.encodeReply(reply)).toEqual(rep);
  });

  it('open_event: scalars in order, then the name', () => {
    const req = requestFrame(code('open_event'), 0, (b) => b.u32(0x1f0003).u32(0x80).u32(0x10), utf16('Global\\ev'));
    const decoded = protocol.decodeRequest(req);
    expect(decoded.body).toMatchObject({ access: 0x1f0003, attributes: 0x80, rootdir: 0x10 });
    expect(protocol.formatRequest(0x30, decoded)).toBe('0030: open_event( access=001f0003, attributes=00000080, rootdir=0010, name=L"Global\\\\ev" )');
    expect(protocol.encodeRequest(decoded)).toEqual(req);
    const failed = protocol.decodeReply(code('open_event'), replyFrame(0xc0000034, (b) => b.u32(0)));
    expect(protocol.formatReply(0x30, failed)).toBe('0030: open_event() = OBJECT_NAME_NOT_FOUND { handle=0000 }');
  });

  it('init_first_thread: signed ints and the alignment of a 64-bit reply field', () => {
    const req = requestFrame(code('init_first_thread'), 0x200, (b) => b.i32(4242).i32(4243).i32(1).i32(5).i32(-1));
    const decoded = protocol.decodeRequest(req);
    expect(protocol.formatRequest(0x20, decoded)).toBe('0020: init_first_thread( unix_pid=4242, unix_tid=4243, debug_level=1, reply_fd=5, wait_fd=-1 )');
    expect(decoded.replySize).toBe(0x200);
    expect(protocol.encodeRequest(decoded)).toEqual(req);

    // pid@8, tid@12, server_start@16 (8-aligned), session_id@24, info_size@28, then machines.
    const rep = replyFrame(0, (b) => b.u32(0x20).u32(0x24).u64(0x01d9000000000000n).u32(1).u32(0x1a0), new ByteBuilder().u16(0x8664).u16(0x14c).build());
    const reply = protocol.decodeReply(code('init_first_thread'), rep);
    expect(reply.body).toMatchObject({ pid: 0x20, tid: 0x24, session_id: 1, info_size: 0x1a0 });
    expect(protocol.encodeReply(reply)).toEqual(rep);
  });

  it('a request without reply members prints no braces', () => {
    const rep = replyFrame(0, () => {});
    expect(protocol.formatReply(0x24, protocol.decodeReply(code('close_handle'), rep))).toBe('0024: close_handle() = 0');
    expect(protocol.formatReply(0x24, protocol.decodeReply(code('close_handle'), replyFrame(0xc0000008, () => {})))).toBe(
      '0024: close_handle() = INVALID_HANDLE',
    );
  });

  it('64-bit fields print as wineserver prints them', () => {
    const rep = replyFrame(0, (b) => b.u64(0n).u64(0n).i32(-1).i32(77));
    const reply = protocol.decodeReply(code('get_thread_times'), rep);
    expect(protocol.formatReply(0x24, reply)).toBe('0024: get_thread_times() = 0 { creation_time=0, exit_time=0, unix_pid=-1, unix_tid=77 }');
  });

  it('refuses frames whose length does not match their header, and unknown codes', () => {
    const req = requestFrame(code('add_atom'), 0, () => {}, utf16('foo'));
    expect(() => protocol.decodeRequest(req.subarray(0, 66))).toThrowError(expect.objectContaining({ code: 'WK_FRAME_TRUNCATED' }));
    expect(() => protocol.decodeRequest(requestFrame(9999, 0, () => {}))).toThrowError(expect.objectContaining({ code: 'WK_UNKNOWN_REQUEST' }));
    expect(() => protocol.decodeRequest(requestFrame(-1, 0, () => {}))).toThrowError(expect.objectContaining({ code: 'WK_UNKNOWN_REQUEST' }));
    expect(protocol.formatRequest(0x24, { code: 9999, name: '?', replySize: 0, body: {} })).toBe('0024: 9999(?)');
  });
});
