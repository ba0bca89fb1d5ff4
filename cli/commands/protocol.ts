// `winekernel protocol [--json] [--wine VERSION]`: every request of a protocol
// version with its code, fixed sizes and variable-part kinds.

import { parseArgs } from 'node:util';
import type { Command } from '../main.ts';
import { availableVersions, loadProtocol } from '../../requests/protocol.ts';
import type { MessageInfo } from '../../requests/protocol-types.ts';

function varargSummary(msg: MessageInfo): string {
  return msg.varargs.map((v) => `${v.name}:${v.kind}`).join(',') || '-';
}

export const command: Command = {
  summary: 'list every wineserver request with its code, fixed sizes and variable parts',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { json: { type: 'boolean', default: false }, wine: { type: 'string' }, help: { type: 'boolean', default: false } },
    });
    if (values.help) {
      process.stdout.write(`usage: winekernel protocol [--json] [--wine VERSION]\nversions: ${availableVersions().join(', ')}\n`);
      return 0;
    }
    const protocol = loadProtocol(values.wine);
    if (values.json) {
      const out = {
        wineVersion: protocol.wineVersion,
        protocolVersion: protocol.protocolVersion,
        requests: protocol.requests.map((r) => ({
          code: r.code,
          name: r.name,
          request: { fixedSize: r.request.fixedSize, fields: r.request.fields, varargs: r.request.varargs },
          reply: { fixedSize: r.reply.fixedSize, fields: r.reply.fields, varargs: r.reply.varargs },
        })),
      };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return 0;
    }
    const lines = [`Wine ${protocol.wineVersion}, protocol version ${protocol.protocolVersion}, ${protocol.requests.length} requests`, ''];
    lines.push(['code', 'name', 'req', 'reply', 'request varargs', 'reply varargs'].join('\t'));
    for (const r of protocol.requests) {
      lines.push([r.code, r.name, r.request.fixedSize, r.reply.fixedSize, varargSummary(r.request), varargSummary(r.reply)].join('\t'));
    }
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
