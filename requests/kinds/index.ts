// The registry the generated protocol code uses: every vararg kind by the
// name protocol.def gives it in VARARG(name, KIND[, size]), and every
// structured fixed field type by its C type name.

import type { FixedKind, VarargKind } from './kind.ts';
import { bytesKind, messageDataKind, stringKind, unicodeStrKind } from './text.ts';
import {
  cursorPositionsKind,
  handleInfosKind,
  intsKind,
  luidAttrKind,
  propertiesKind,
  rawinputDevicesKind,
  rectanglesKind,
  uints64Kind,
  uintsKind,
  userHandlesKind,
  ushortsKind,
} from './arrays.ts';
import { aclKind, securityDescriptorKind, sidKind, sidsKind } from './security.ts';
import { abstimeKind, genericMapKind, ioctlCodeKind, luidKind, rectangleKind, timeoutKind } from './fixed.ts';
import { apcCallKind, apcResultKind, apcResultVarargKind, asyncDataKind } from './apc.ts';
import { irpParamsKind } from './irp.ts';
import { hwInputKind } from './hw-input.ts';
import { selectOpKind } from './select-op.ts';
import { objectAttributesKind } from './object-attributes.ts';
import { startupInfoKind } from './startup-info.ts';
import { processInfoKind } from './process-info.ts';
import { contextsKind } from './context.ts';
import { peImageInfoKind } from './pe-image-info.ts';
import { debugEventKind } from './debug-event.ts';
import { objectTypeInfoKind, objectTypesInfoKind } from './object-type-info.ts';
import { filesystemEventKind } from './filesystem-event.ts';

export type { FixedKind, VarargKind, TraceContext } from './kind.ts';
export { formatUint64, formatTimeout, formatAbstime } from './format.ts';
export { statusName } from './format.ts';
export { OMITTED } from './malformed.ts';

export const varargKinds = {
  unicode_str: unicodeStrKind,
  bytes: bytesKind,
  string: stringKind,
  message_data: messageDataKind,
  uints: uintsKind,
  ints: intsKind,
  ushorts: ushortsKind,
  uints64: uints64Kind,
  user_handles: userHandlesKind,
  rectangles: rectanglesKind,
  luid_attr: luidAttrKind,
  properties: propertiesKind,
  cursor_positions: cursorPositionsKind,
  rawinput_devices: rawinputDevicesKind,
  handle_infos: handleInfosKind,
  sid: sidKind,
  sids: sidsKind,
  acl: aclKind,
  security_descriptor: securityDescriptorKind,
  object_attributes: objectAttributesKind,
  select_op: selectOpKind,
  apc_result: apcResultVarargKind,
  startup_info: startupInfoKind,
  contexts: contextsKind,
  pe_image_info: peImageInfoKind,
  debug_event: debugEventKind,
  process_info: processInfoKind,
  object_type_info: objectTypeInfoKind,
  object_types_info: objectTypesInfoKind,
  filesystem_event: filesystemEventKind,
} as const satisfies Record<string, VarargKind<any>>;

export const fixedKinds = {
  timeout_t: timeoutKind,
  abstime_t: abstimeKind,
  rectangle_t: rectangleKind,
  'struct luid': luidKind,
  generic_map_t: genericMapKind,
  ioctl_code_t: ioctlCodeKind,
  apc_call_t: apcCallKind,
  apc_result_t: apcResultKind,
  async_data_t: asyncDataKind,
  irp_params_t: irpParamsKind,
  hw_input_t: hwInputKind,
} as const satisfies Record<string, FixedKind<any>>;
