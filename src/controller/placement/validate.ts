// Cross-field checks of a serviceenginegroup's placement settings (the schema checks each
// field alone). Throws a 400 naming the field.
import { badRequest } from '../errors.js';

const PREFIX = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

export function validateSeGroup(b: Record<string, any>): void {
  const n = (k: string, d: number): number => (typeof b[k] === 'number' ? b[k] : d);
  const maxSe = n('max_se', 10), minSe = n('min_se', 1), buffer = n('buffer_se', 1);
  const minOut = n('min_scaleout_per_vs', 1), maxOut = n('max_scaleout_per_vs', 4);
  if (b.se_name_prefix !== undefined && (typeof b.se_name_prefix !== 'string' || !PREFIX.test(b.se_name_prefix))) {
    throw badRequest(`se_name_prefix: ${JSON.stringify(b.se_name_prefix)}: 1 to 32 letters, digits, '-' or '_', starting with a letter or digit (SE names are <prefix>-se-<n>)`);
  }
  if (minOut > maxOut) throw badRequest(`min_scaleout_per_vs: ${minOut} is above max_scaleout_per_vs ${maxOut}`);
  if (maxOut > maxSe) throw badRequest(`max_scaleout_per_vs: ${maxOut} is above max_se ${maxSe} (a VS cannot be on more SEs than the group has)`);
  if (minSe > maxSe) throw badRequest(`min_se: ${minSe} is above max_se ${maxSe}`);
  if (buffer > maxSe) throw badRequest(`buffer_se: ${buffer} is above max_se ${maxSe}`);
  const ha = b.ha_mode ?? 'HA_MODE_SHARED';
  if (ha !== 'HA_MODE_SHARED' && maxSe < 2) throw badRequest(`max_se: ${ha} needs at least 2 service engines, max_se is ${maxSe}`);
  if (ha === 'HA_MODE_LEGACY_ACTIVE_STANDBY' && maxOut > 2) throw badRequest(`max_scaleout_per_vs: HA_MODE_LEGACY_ACTIVE_STANDBY places a VS on one active and one standby SE; ${maxOut} is above 2`);
  // realtime_se_metrics.duration stays when realtime metrics turn themselves off (enabled: false), as in Avi.
}
