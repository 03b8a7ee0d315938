// emergencydetection (BeFaaS IoT, at the edge): is there an emergency vehicle among the objects
// objectrecognition saw? Tells lightphasecalculation asynchronously and answers the verdict.
// Ported from OpenFogStack/enoki functions/5_befaas-iot/emergencydetection/fn.py.
//
//   in:  {"objects": [{"type": "ambulance", "positionx": 0, ...}, ...]}
//   out: {"emergency": {"active": true, "type": "ambulance"}}   ({"active": false, "type": null})

import { befaasHandler, call } from '../befaas.js';
import { field, isDict } from '../python.js';

/** In order of precedence: the first kind present wins. */
const EMERGENCIES = ['ambulance', 'police', 'lunatic'];

export const handler = befaasHandler((inputs, ctx) => {
  const objects = field(inputs, 'objects');
  if (!Array.isArray(objects)) return { error: 'Wrong payload.' };

  let emergency = { active: false, type: null };
  for (const kind of EMERGENCIES) {
    if (objects.some((o) => isDict(o) && o.type === kind)) {
      emergency = { active: true, type: kind };
      break;
    }
  }
  call(ctx, 'lightphasecalculation', { emergency }, true);
  return { emergency };
});
