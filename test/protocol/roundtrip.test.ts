// encode(decode(bytes)) == bytes for every request and reply type of every
// generated protocol version, on generated values including edge values
// (zero and maximum scalars, every sample of every kind: empty, odd-length
// and maximum-size variable parts).

import { describe, expect, it } from 'vitest';
import { availableVersions, loadProtocol, type Protocol } from '../../requests/protocol.ts';
import { bodies, prng } from '../helpers/protocol-samples.ts';

function checkVersion(protocol: Protocol) {
  const rand = prng(protocol.protocolVersion);
  let frames = 0;
  for (const info of protocol.requests) {
    for (const body of bodies(info.request, rand)) {
      const bytes = protocol.encodeRequest({ code: info.code, replySize: 0x1000, body });
      expect(bytes.length, info.name).toBeGreaterThanOrEqual(64);
      const decoded = protocol.decodeRequest(bytes);
      expect(decoded.name).toBe(info.name);
      expect(decoded.extra, `${info.name} request leaves no stray bytes`).toBeUndefined();
      expect(protocol.encodeRequest(decoded).equals(bytes), `${info.name} request round trip`).toBe(true);
      frames++;
    }
    for (const body of bodies(info.reply, rand)) {
      const bytes = protocol.encodeReply({ code: info.code, error: 0xc0000022, body });
      const decoded = protocol.decodeReply(info.code, bytes);
      expect(decoded.extra, `${info.name} reply leaves no stray bytes`).toBeUndefined();
      expect(protocol.encodeReply(decoded).equals(bytes), `${info.name} reply round trip`).toBe(true);
      frames++;
    }
  }
  return frames;
}

describe('encode(decode(bytes)) == bytes', () => {
  for (const version of availableVersions()) {
    it(`for every request and reply of ${version}`, () => {
      const protocol = loadProtocol(version);
      const frames = checkVersion(protocol);
      expect(frames).toBeGreaterThanOrEqual(protocol.requests.length * 2 * 3);
    });
  }

  it('keeps bytes no vararg claims, so even odd frames round-trip', () => {
    const protocol = loadProtocol('wine-8.0');
    const code = protocol.codeOf('delete_atom'); // no varargs at all
    const body = { atom: 0xc001 };
    const frame = protocol.encodeRequest({ code, replySize: 0, body, extra: Buffer.from([1, 2, 3]) });
    const decoded = protocol.decodeRequest(frame);
    expect(decoded.extra).toEqual(Buffer.from([1, 2, 3]));
    expect(protocol.encodeRequest(decoded)).toEqual(frame);
  });
});
