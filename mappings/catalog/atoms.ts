// The global atom table: translated (mappings/atoms.ts).

import { ATOM_TRANSLATORS } from '../atoms.ts';
import type { Translator } from '../translator.ts';

export const ATOM_ENTRIES: Translator[] = [...ATOM_TRANSLATORS];
