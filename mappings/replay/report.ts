// What a replay reports (docs/replay.md), and the bookkeeping that fills it.

import { WinekernelError } from '../../errors/winekernel-error.ts';

export class ReplayError extends WinekernelError<'WK_REPLAY_NO_HIVES' | 'WK_REPLAY_BAD_SNAPSHOT' | 'WK_REPLAY_ATTACH'> {}

/** The families the replay reports on (a translated type outside them reports under its catalog family). */
export type ReplayFamily = 'registry' | 'atoms' | 'namespace' | 'security' | 'mutexes';

export interface TypeStats {
  /** Requests of this type answered by the translators and compared. */
  replayed: number;
  matched: number;
  /** Matched replies with nothing mapped or masked, equal to the recorded frame byte for byte. */
  byteExact: number;
  /** Not compared, with why (e.g. a handle the replay never saw opened). */
  skipped: number;
  /** The first mismatches, as `request` / `recorded` / `replayed` trace lines. */
  examples: string[];
}

export interface Counted {
  compared: number;
  matched: number;
  /** The first differences. */
  examples: string[];
}

export interface ReplayReport {
  /** Per request type: the translated types, and `select` (a wait on exactly one of the replay's mutexes). */
  types: Record<string, TypeStats>;
  /** Per family: replies compared and matched. */
  families: Record<string, { replayed: number; matched: number }>;
  replayed: number;
  matched: number;
  /** Compared replies, wake-ups and mirrored outcomes that differ: any makes the replay fail. */
  mismatched: number;
  /** Requests not compared, by reason. */
  skipped: Record<string, number>;
  /** Requests the proxy answered itself when recording (aux flag), among those replayed. */
  recordedTranslated: number;
  /** Key times that differed by design and were masked. */
  masked: { modif: number };
  /** Replies without a mapped or masked value, also compared byte for byte with the recorded frame (included in `replayed`). */
  byteExact: number;
  /**
   * Forwarded requests whose effect on translated state is reproduced and
   * whose outcome must agree with wineserver's: named objects of forwarded
   * types put into the namespace, devices, mixed selects that acquired one
   * of the replay's mutexes.
   */
  mirrored: Counted;
  /** Waits both sides left pending, whose wake-up (cookie and status) was compared. */
  wakeups: Counted;
  /** Selects naming one of the replay's mutexes among objects it does not hold (not answerable by either side alone). */
  unanswerable: string[];
  /** The recorded reply line of every compared reply, in replay order (only with `keepLines`). */
  lines: string[];
  elapsedMs: number;
}

export function emptyReport(): ReplayReport {
  return {
    types: {},
    families: {},
    replayed: 0,
    matched: 0,
    mismatched: 0,
    skipped: {},
    recordedTranslated: 0,
    masked: { modif: 0 },
    byteExact: 0,
    mirrored: { compared: 0, matched: 0, examples: [] },
    wakeups: { compared: 0, matched: 0, examples: [] },
    unanswerable: [],
    lines: [],
    elapsedMs: 0,
  };
}

/** Fills a report; `maxExamples` bounds the differences kept per type and per counter. */
export class ReportBuilder {
  readonly report = emptyReport();

  constructor(
    private readonly maxExamples: number,
    private readonly keepLines: boolean,
  ) {}

  private type(name: string): TypeStats {
    return (this.report.types[name] ??= { replayed: 0, matched: 0, byteExact: 0, skipped: 0, examples: [] });
  }

  skip(name: string, why: string): void {
    this.type(name).skipped++;
    this.report.skipped[why] = (this.report.skipped[why] ?? 0) + 1;
  }

  /** One compared reply: `difference` null when it matched (`byteExact`: and was compared byte for byte). */
  compared(name: string, family: string, recordedLine: string, difference: string | null, byteExact = false): void {
    const stats = this.type(name);
    const fam = (this.report.families[family] ??= { replayed: 0, matched: 0 });
    stats.replayed++;
    fam.replayed++;
    this.report.replayed++;
    if (this.keepLines) this.report.lines.push(recordedLine);
    if (difference === null) {
      stats.matched++;
      fam.matched++;
      this.report.matched++;
      if (byteExact) {
        stats.byteExact++;
        this.report.byteExact++;
      }
      return;
    }
    this.report.mismatched++;
    if (stats.examples.length < this.maxExamples) stats.examples.push(difference);
  }

  /** A wake-up or a mirrored outcome. */
  counted(counter: Counted, difference: string | null): void {
    counter.compared++;
    if (difference === null) {
      counter.matched++;
      return;
    }
    this.report.mismatched++;
    if (counter.examples.length < this.maxExamples) counter.examples.push(difference);
  }
}
