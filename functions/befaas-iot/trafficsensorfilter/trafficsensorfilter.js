// trafficsensorfilter (BeFaaS IoT, at the edge): drops implausible car sensor readings and passes
// the others synchronously to movementplan. Answers {} either way.
// Ported from OpenFogStack/enoki functions/5_befaas-iot/trafficsensorfilter/fn.py.
//
//   in: {"carDirection": {"plate": "OD DI 98231", "direction": 4, "speed": 1.7}}

import { befaasHandler, call } from '../befaas.js';
import { comparable, field, isNumber, item } from '../python.js';

/** Python's re.match with `$`, which also matches before a final newline. */
const PLATE = /^[A-Z]{2} [A-Z]{2} \d{1,7}\n?$/;

/** Whether the reading is kept (the original's checks, in its order). */
export function plausible(carDirection) {
  const direction = item(carDirection, 'direction');
  if (!isNumber(direction)) return false;
  if (direction < 0 || direction > 4) return false;
  const plate = item(carDirection, 'plate');
  if (typeof plate !== 'string' || !PLATE.test(plate)) return false;
  const speed = comparable(item(carDirection, 'speed'), 'speed');
  return !(speed < -20.0 || speed > 38.8889);
}

export const handler = befaasHandler((inputs, ctx) => {
  const carDirection = field(inputs, 'carDirection');
  if (!plausible(carDirection)) return null;
  call(ctx, 'movementplan', { carDirection }, false);
  return null;
});
