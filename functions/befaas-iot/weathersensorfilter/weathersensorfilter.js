// weathersensorfilter (BeFaaS IoT, at the edge): checks a weather reading and, only when it
// rains, passes it asynchronously to roadcondition. Answers {} or {"error": "Invalid ..."}.
// Ported from OpenFogStack/enoki functions/5_befaas-iot/weathersensorfilter/fn.py.
//
//   in: {"temperature": 10.0, "humidity": 50.0, "wind": 20.0, "rain": true}
//
// Kept from the original: a value is checked only when it is truthy, so a temperature, humidity
// or wind of exactly 0 is "invalid".

import { befaasHandler, call } from '../befaas.js';
import { comparable, field, truthy } from '../python.js';

function within(x, what, low, high) {
  if (!truthy(x)) return false;
  const v = comparable(x, what);
  return v >= low && v <= high;
}

/** The first problem with the reading ("Invalid temperature." ...), or null. */
export function invalidReading(temperature, humidity, wind, rain) {
  if (!within(temperature, 'temperature', -273.15, 100.0)) return 'Invalid temperature.'; // °C
  if (!within(humidity, 'humidity', 0.0, 100.0)) return 'Invalid humidity.'; // %
  if (!within(wind, 'wind', 0.0, 150.0)) return 'Invalid wind.'; // m/s
  if (typeof rain !== 'boolean') return 'Invalid rain.';
  return null;
}

export const handler = befaasHandler((inputs, ctx) => {
  const [temperature, humidity, wind, rain] = ['temperature', 'humidity', 'wind', 'rain'].map((k) => field(inputs, k));
  const invalid = invalidReading(temperature, humidity, wind, rain);
  if (invalid) return { error: invalid };
  if (!rain) return null; // only rain matters
  call(ctx, 'roadcondition', { temperature, humidity, wind, rain }, true);
  return null;
});
