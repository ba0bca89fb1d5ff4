// Differential test: our trace text against wineserver's own dumpers, built
// from the Wine 8.0 sources in third_party/wine-src (needs gcc and perl; the
// build fails loudly without them). Inputs on which wineserver's dumpers have
// undefined behaviour (reading past the data) are left out.

import { describe, expect, it } from 'vitest';
import { buildWineTraceHarness } from '../../requests/kinds/tools/wine-harness.ts';
import { compareWithWine } from '../../requests/kinds/tools/wine-diff.ts';

describe('trace text matches wineserver', () => {
  it('for every kind on samples, mutations and random bytes', () => {
    const harness = buildWineTraceHarness();
    const result = compareWithWine(harness);
    expect(result.cases).toBeGreaterThan(20000);
    expect(result.different, result.report.join('\n')).toBe(0);
  }, 300_000);
});
