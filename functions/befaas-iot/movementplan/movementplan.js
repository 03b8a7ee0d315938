// movementplan (BeFaaS IoT, at the edge): keeps the list of the last 12 distinct cars seen
// ("movementplancars" in its keygroup) and sends it asynchronously to lightphasecalculation.
// Answers {}. Ported from OpenFogStack/enoki functions/5_befaas-iot/movementplan/fn.py.
//
//   in: {"carDirection": {"plate": ..., "direction": ..., "speed": ...}}   (from trafficsensorfilter)
//    or {"objects": [...]}                                                  (from objectrecognition)
//
// A car reading goes to the front of the list; duplicates (equal in every field) are dropped.
// Kept from the original: a list of objects does not add cars but cuts the list to as many
// cars as there are objects (objects with no car cut it to nothing).

import { befaasHandler, call, dbget, dbset } from '../befaas.js';
import { isDict, len } from '../python.js';

const MAX_CARS = 12;

/** Python's dicts compare by their items, whatever their order. */
function itemsKey(car) {
  if (!isDict(car)) throw `'${Array.isArray(car) ? 'list' : typeof car}' object has no attribute 'items'`;
  return JSON.stringify(Object.entries(car).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The first of each set of equal cars, in order. */
export function uniqueCars(cars) {
  const seen = new Set();
  return cars.filter((car) => {
    const key = itemsKey(car);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The new list of cars, from the stored one and the input. */
export function plan(stored, inputs) {
  let cars = isDict(stored) && Object.hasOwn(stored, 'cars') ? stored.cars : [];
  if (!Array.isArray(cars)) throw `the stored cars are not a list`;
  if (Object.hasOwn(inputs, 'objects')) {
    cars = cars.slice(0, len(inputs.objects));
  } else if (Object.hasOwn(inputs, 'carDirection')) {
    cars = uniqueCars([inputs.carDirection, ...cars]).slice(0, MAX_CARS);
  }
  return cars;
}

export const handler = befaasHandler((inputs, ctx) => {
  if (!isDict(inputs)) throw `the context's data is not an object`;
  const cars = plan(dbget('movementplancars'), inputs);
  dbset('movementplancars', { cars });
  call(ctx, 'lightphasecalculation', { plan: cars }, true);
  return null;
});
