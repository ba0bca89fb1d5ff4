// Shared by the registry translator tests: a client process on the
// in-process backend and one request driven through the real encoders and
// decoders, printed as wineserver's +server trace prints the reply.

import { createInProcessBackend } from '../../backends/inprocess/index.ts';
import { WK_ATTACH_CREATE, type Session } from '../../backends/primitives.ts';
import { ProxyHandleTable } from '../../mappings/handles.ts';
import type { TranslatedEntry, TranslationContext } from '../../mappings/translator.ts';
import { loadProtocol } from '../../requests/protocol.ts';

export const protocol = loadProtocol('wine-8.0');
export const TID = 0x24;

let counter = 0;

/** A fresh instance and a session attached to it. */
export function freshSession(label = 'reg'): { session: Session; kernid: string; backend: ReturnType<typeof createInProcessBackend> } {
  const backend = createInProcessBackend();
  const kernid = `${label}-${++counter}`;
  const session = backend.openSession({ pid: 0x20 });
  const attached = session.attach(kernid, WK_ATTACH_CREATE);
  if (attached < 0) throw new Error(`attach failed: ${attached}`);
  return { session, kernid, backend };
}

export function client(session: Session, pid = 0x20): TranslationContext {
  return { session, pid, tid: TID, handles: new ProxyHandleTable(), protocol };
}

/** Encode → decode → translate → encode → decode; the reply's trace line and the decoded reply. */
export async function call(ctx: TranslationContext, translator: TranslatedEntry, body: Record<string, unknown>, replySize = 0, tid = TID) {
  const code = protocol.codeOf(translator.request);
  const request = protocol.decodeRequest(protocol.encodeRequest({ code, replySize, body }));
  if (request.name !== translator.request) throw new Error(`decoded ${request.name}, not ${translator.request}`);
  const reply = await translator.translate(request, ctx);
  const decoded = protocol.decodeReply(code, protocol.encodeReply({ code, error: reply.error, body: reply.body }));
  return { trace: protocol.formatReply(tid, decoded), reply: decoded };
}
