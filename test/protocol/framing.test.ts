import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../requests/errors.ts';
import { ReplyFramer, RequestFramer, type ReplyFrame, type RequestFrame } from '../../requests/framing.ts';
import { ByteBuilder, replyFrame, requestFrame } from '../helpers/byte-builder.ts';

function collect<F>(framer: { push(c: Buffer, s: { frame(f: F): void; error(e: ProtocolError): void }): void }, chunks: Buffer[]) {
  const frames: F[] = [];
  const errors: ProtocolError[] = [];
  for (const c of chunks) framer.push(c, { frame: (f) => frames.push(f), error: (e) => errors.push(e) });
  return { frames, errors };
}

const stream = Buffer.concat([
  requestFrame(18, 0, (b) => b.u32(0x1234)),
  requestFrame(19, 512, () => {}, new ByteBuilder().utf16('hello').build()),
  requestFrame(2, 0, () => {}, Buffer.alloc(1, 0x7f)),
  requestFrame(200, 0x10000, (b) => b.u32(1).u32(2).u32(3)),
]);

describe('RequestFramer', () => {
  it('frames a whole stream in one chunk', () => {
    const { frames, errors } = collect<RequestFrame>(new RequestFramer(), [stream]);
    expect(errors).toEqual([]);
    expect(frames.map((f) => [f.code, f.requestSize, f.replySize])).toEqual([
      [18, 0, 0],
      [19, 10, 512],
      [2, 1, 0],
      [200, 0, 0x10000],
    ]);
    expect(Buffer.concat(frames.map((f) => f.bytes))).toEqual(stream);
  });

  it('gives the same frames for the input split at every offset, and byte by byte', () => {
    const whole = collect<RequestFrame>(new RequestFramer(), [stream]).frames.map((f) => f.bytes.toString('hex'));
    for (let cut = 0; cut <= stream.length; cut++) {
      const parts = collect<RequestFrame>(new RequestFramer(), [stream.subarray(0, cut), stream.subarray(cut)]);
      expect(parts.frames.map((f) => f.bytes.toString('hex'))).toEqual(whole);
    }
    const bytes = [...stream].map((b) => Buffer.from([b]));
    expect(collect<RequestFrame>(new RequestFramer(), bytes).frames.map((f) => f.bytes.toString('hex'))).toEqual(whole);
  });

  it('hands out frames that do not change when the input chunk is overwritten later', () => {
    const chunk = Buffer.from(stream);
    const { frames } = collect<RequestFrame>(new RequestFramer(), [chunk]);
    chunk.fill(0xee);
    expect(Buffer.concat(frames.map((f) => f.bytes))).toEqual(stream);
  });

  it('rejects a request over the size limit, skips exactly its bytes and goes on', () => {
    const big = requestFrame(5, 0, () => {}, Buffer.alloc(300, 1));
    const input = Buffer.concat([requestFrame(1, 0, () => {}), big, requestFrame(3, 0, () => {})]);
    for (let cut = 0; cut <= input.length; cut += 7) {
      const framer = new RequestFramer(256);
      const { frames, errors } = collect<RequestFrame>(framer, [input.subarray(0, cut), input.subarray(cut)]);
      expect(frames.map((f) => f.code)).toEqual([1, 3]);
      expect(errors.map((e) => e.code)).toEqual(['WK_REQUEST_TOO_LARGE']);
      expect(framer.midMessage).toBe(false);
    }
  });

  it('a request_size of 4 GiB is refused without allocating it', () => {
    const hostile = new ByteBuilder().i32(1).u32(0xffffffff).u32(0).padTo(64).build();
    const framer = new RequestFramer();
    const { frames, errors } = collect<RequestFrame>(framer, [hostile]);
    expect(frames).toEqual([]);
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect(errors[0].code).toBe('WK_REQUEST_TOO_LARGE');
    expect(framer.pendingBytes).toBe(0);
    expect(framer.midMessage).toBe(true);
  });

  it('reports a truncated stream as mid-message', () => {
    const framer = new RequestFramer();
    collect<RequestFrame>(framer, [stream.subarray(0, 70)]);
    expect(framer.midMessage).toBe(true);
    expect(framer.pendingBytes).toBe(6);
  });

  it('pushAll throws the first error after framing the chunk, with the good frames attached', () => {
    const framer = new RequestFramer(8);
    const input = Buffer.concat([requestFrame(1, 0, () => {}), requestFrame(2, 0, () => {}, Buffer.alloc(9))]);
    try {
      framer.pushAll(input);
      expect.unreachable();
    } catch (e) {
      expect((e as ProtocolError).code).toBe('WK_REQUEST_TOO_LARGE');
      expect((e as ProtocolError & { frames: RequestFrame[] }).frames.map((f) => f.code)).toEqual([1]);
    }
  });
});

describe('ReplyFramer', () => {
  const replies = Buffer.concat([
    replyFrame(0, (b) => b.u32(0xc001)),
    replyFrame(0xc0000034, () => {}),
    replyFrame(0, () => {}, Buffer.alloc(33, 0xaa)),
  ]);

  it('frames replies split at every offset', () => {
    for (let cut = 0; cut <= replies.length; cut++) {
      const framer = new ReplyFramer();
      for (const limit of [0, 0, 64]) framer.expect(limit);
      const { frames, errors } = collect<ReplyFrame>(framer, [replies.subarray(0, cut), replies.subarray(cut)]);
      expect(errors).toEqual([]);
      expect(frames.map((f) => [f.error, f.replySize])).toEqual([
        [0, 0],
        [0xc0000034, 0],
        [0, 33],
      ]);
    }
  });

  it('rejects a reply bigger than its request allowed and stays in step', () => {
    const framer = new ReplyFramer();
    for (const limit of [0, 0, 16]) framer.expect(limit);
    const { frames, errors } = collect<ReplyFrame>(framer, [replies]);
    expect(errors.map((e) => e.code)).toEqual(['WK_REPLY_TOO_LARGE']);
    expect(frames.map((f) => f.error)).toEqual([0, 0xc0000034]);
    expect(framer.midMessage).toBe(false);
  });
});
