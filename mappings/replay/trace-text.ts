// Helpers for wineserver's +server trace text, for the tests that replay a
// trace instead of a recording (test/mappings/registry-replay.ts,
// atoms-wine.test.ts).

/** The inverse of wineserver's dump_strW for the escapes it produces. */
export function parseWide(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    if (n === 'x') {
      let hex = '';
      while (hex.length < 4 && /[0-9a-fA-F]/.test(body[i + 1] ?? '')) hex += body[++i];
      out += String.fromCharCode(parseInt(hex, 16));
    } else if (/[0-7]/.test(n)) {
      let oct = n;
      while (oct.length < 3 && /[0-7]/.test(body[i + 1] ?? '')) oct += body[++i];
      out += String.fromCharCode(parseInt(oct, 8));
    } else {
      const simple: Record<string, string> = { a: '\x07', b: '\b', t: '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b' };
      out += simple[n] ?? n;
    }
  }
  return out;
}

/** Splits `a=1, b={x,y}, c=L"p, q"` at top-level commas (", " or ","). */
export function splitArgs(args: string): Map<string, string> {
  const out = new Map<string, string>();
  let depth = 0;
  let inString = false;
  let start = 0;
  const push = (end: number) => {
    const part = args.slice(start, end).trim();
    if (!part) return;
    const eq = part.indexOf('=');
    out.set(part.slice(0, eq), part.slice(eq + 1));
  };
  for (let i = 0; i < args.length; i++) {
    const c = args[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      push(i);
      start = i + 1;
    }
  }
  push(args.length);
  return out;
}

/** `{01,02,...(total N)}` → the bytes (the part not printed as zeros) and how many were printed. */
export function parseBytes(v: string | undefined): { bytes: Buffer; printed: number } {
  const m = /^\{([0-9a-f,]*)(?:\.\.\.\(total (\d+)\))?\}$/.exec(v ?? '{}');
  if (!m) throw new Error(`not a byte dump: ${v}`);
  const shown = m[1] ? m[1].split(',').map((h) => parseInt(h, 16)) : [];
  const total = m[2] ? parseInt(m[2], 10) : shown.length;
  const bytes = Buffer.alloc(total);
  Buffer.from(shown).copy(bytes);
  return { bytes, printed: total };
}
