// trafficstatistics (BeFaaS IoT, in the cloud): counts the recognised objects by type, stores the
// counts under "trafficstatistics{unix seconds}" and answers them.
// Ported from OpenFogStack/enoki functions/5_befaas-iot/trafficstatistics/fn.py.
//
//   in:  {"objects": [{"type": "ambulance", ...}, {"type": "car", ...}]}
//   out: {"ambulance": 1, "car": 1}
//
// Built with the `clocks` WASI feature for the timestamp. Calls within the same second overwrite
// each other's counts, as in the original.

import { befaasHandler, dbset } from '../befaas.js';
import { field, item } from '../python.js';

export function countBy(collection, key) {
  const counts = new Map();
  for (const o of collection) {
    const k = String(item(o, key));
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return Object.fromEntries(counts);
}

export const handler = befaasHandler((inputs) => {
  const objects = field(inputs, 'objects');
  if (!Array.isArray(objects)) return { error: 'Wrong payload.' };
  const statistics = countBy(objects, 'type');
  const timestamp = Math.floor(Date.now() / 1000);
  dbset(`trafficstatistics${timestamp}`, statistics);
  return statistics;
});
