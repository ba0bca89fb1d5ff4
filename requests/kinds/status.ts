// NTSTATUS values by the names wineserver's trace prints (without the
// STATUS_ prefix; win32/winsock errors keep their own prefix).

import { STATUS_NAMES } from './status-names.ts';

const byValue = new Map<number, string>();
for (const [name, value] of STATUS_NAMES) if (!byValue.has(value)) byValue.set(value, name);

/** Wine's get_status_name: a known name, or the value in plain hex ("0" for success). */
export function statusName(status: number): string {
  const value = status >>> 0;
  return (value !== 0 && byValue.get(value)) || value.toString(16);
}
