// The relay's framers hand out views of the read buffer (copyFrames: false):
// the same frames as copying framers, at every split, as long as each frame
// is used during its sink call; retainFrameBytes keeps one beyond it.
import { describe, expect, it } from 'vitest';
import { ReplyFramer, RequestFramer, retainFrameBytes, type RequestFrame } from '../../requests/framing.ts';
import { ByteBuilder, replyFrame, requestFrame } from '../helpers/byte-builder.ts';

const stream = Buffer.concat([
  requestFrame(18, 0, (b) => b.u32(0x1234)),
  requestFrame(19, 512, () => {}, new ByteBuilder().utf16('hello').build()),
  requestFrame(2, 0, () => {}, Buffer.alloc(1, 0x7f)),
  requestFrame(200, 0x10000, (b) => b.u32(1).u32(2).u32(3)),
]);

/** Frames as hex, read inside the sink call, from chunks pushed through one reused buffer (as FdReader does). */
function framesThroughReusedBuffer(framer: RequestFramer, chunks: Buffer[]): string[] {
  const seen: string[] = [];
  let reused = Buffer.alloc(4096);
  for (const chunk of chunks) {
    chunk.copy(reused);
    framer.push(reused.subarray(0, chunk.length), { frame: (f) => seen.push(f.bytes.toString('hex')), error: (e) => { throw e; } });
    // FdReader detaches its buffer when the framer keeps a partial message.
    if (framer.pendingBytes > 0) reused = Buffer.alloc(4096);
    else reused.fill(0xee);
  }
  return seen;
}

describe('framers in view mode', () => {
  const copied = new RequestFramer().pushAll(stream).map((f) => f.bytes.toString('hex'));

  it('give the same frames as copying framers, whole or split at any byte', () => {
    expect(framesThroughReusedBuffer(new RequestFramer(undefined, { copyFrames: false }), [stream])).toEqual(copied);
    for (let cut = 1; cut < stream.length; cut += 7) {
      const parts = [stream.subarray(0, cut), stream.subarray(cut)];
      expect(framesThroughReusedBuffer(new RequestFramer(undefined, { copyFrames: false }), parts)).toEqual(copied);
    }
  });

  it('a whole message in one chunk is that chunk, without a copy', () => {
    const one = requestFrame(18, 0, (b) => b.u32(7));
    let frame: RequestFrame | undefined;
    new RequestFramer(undefined, { copyFrames: false }).push(one, { frame: (f) => (frame = f), error: (e) => { throw e; } });
    expect(frame!.bytes).toBe(one);
  });

  it('retainFrameBytes makes a frame that survives reuse of the buffer', () => {
    const chunk = Buffer.from(stream);
    const kept: RequestFrame[] = [];
    new RequestFramer(undefined, { copyFrames: false }).push(chunk, { frame: (f) => kept.push(retainFrameBytes(f)), error: (e) => { throw e; } });
    chunk.fill(0);
    expect(kept.map((f) => f.bytes.toString('hex'))).toEqual(copied);
    expect(kept.map((f) => f.code)).toEqual([18, 19, 2, 200]);
  });

  it('reply framer in view mode checks limits as before', () => {
    const framer = new ReplyFramer({ copyFrames: false });
    const errors: string[] = [];
    const sizes: number[] = [];
    const sink = { frame: (f: { bytes: Buffer }) => sizes.push(f.bytes.length), error: (e: { code: string }) => errors.push(e.code) };
    framer.expect(16);
    framer.push(replyFrame(0, () => {}, Buffer.alloc(16, 1)), sink);
    framer.expect(8);
    framer.push(replyFrame(0, () => {}, Buffer.alloc(32, 2)), sink);
    expect(sizes).toEqual([80]);
    expect(errors).toEqual(['WK_REPLY_TOO_LARGE']);
  });
});
