import { ViaductError, type SerializedError } from '../errors.js';

/** One failure keeps its own code; several are summed up under VIA_ERR_CONFIG_APPLY with each in `details`. */
export function combineErrors(errors: readonly SerializedError[], who: string): ViaductError {
  if (errors.length === 1) return ViaductError.fromJSON(errors[0]!);
  return new ViaductError(
    'VIA_ERR_CONFIG_APPLY',
    `${errors.length} ${who} failed: ${errors.map((e) => e.message).join('; ')}`,
    { details: errors },
  );
}
