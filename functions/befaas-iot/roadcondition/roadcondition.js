// roadcondition (BeFaaS IoT, in the cloud): rates the road from the weather, 0 (perfect) to 5
// (worst), and passes the rating synchronously to lightphasecalculation. Answers {}.
// Ported from OpenFogStack/enoki functions/5_befaas-iot/roadcondition/fn.py.
//
//   in: {"temperature": 10.0, "humidity": 50.0, "wind": 20.0, "rain": true}

import { befaasHandler, call } from '../befaas.js';
import { comparable, field, truthy } from '../python.js';

export function roadCondition(temperature, humidity, wind, rain) {
  let condition = 0;
  if (comparable(temperature, 'temperature') < 4.0) condition += 1;
  if (comparable(humidity, 'humidity') > 75.0) condition += 1;
  if (comparable(wind, 'wind') > 15.0) condition += 1; // Beaufort 7
  if (wind > 25.0) condition += 1; // Beaufort 10
  if (truthy(rain)) condition += 1;
  return condition;
}

export const handler = befaasHandler((inputs, ctx) => {
  const condition = roadCondition(field(inputs, 'temperature'), field(inputs, 'humidity'), field(inputs, 'wind'), field(inputs, 'rain'));
  call(ctx, 'lightphasecalculation', { condition }, false);
  return null;
});
