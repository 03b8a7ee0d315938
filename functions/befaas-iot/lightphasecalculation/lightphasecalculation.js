// lightphasecalculation (BeFaaS IoT, in the cloud): the traffic light. Takes the movement plan,
// emergencies and the road condition, keeps them and the lights in its keygroup, and switches
// the lights (waiting 2 to 4 seconds between phases, longer on worse roads). A call with none
// of the three answers the current lights. Ported from OpenFogStack/enoki
// functions/5_befaas-iot/lightphasecalculation/fn.py.
//
//   in:  {"plan": [{"plate": ..., "direction": 3, "speed": 63.8}], "emergency": {"active": true,
//         "type": "lunatic"}, "condition": 5}   (any of them)
//   out: {}, or {"lights": ["green"], "blink": false} for a call with none of them
//
// Kept from the original (see functions/README.md): any emergency input, active or not, records
// an emergency, and nothing clears it, so from then on the lights stay blinking yellow and no
// call waits. The lock ("lightcalculationlock") does not keep concurrent calls apart here: an
// invocation's writes become visible when it returns, after it has unlocked again.
// Built with the `clocks` WASI feature, for the wait.

import { befaasHandler, dbget, dbset } from '../befaas.js';
import { comparable, float, isDict, isNumber, truthy } from '../python.js';

const K = 'lightcalculation';

/** Python's `==` between a stored JSON value and True/False/None. */
const is = (v, x) => v === x || (typeof v === 'number' && typeof x === 'boolean' && v === Number(x));

function carField(car, key) {
  if (!isDict(car)) throw `'${Array.isArray(car) ? 'list' : typeof car}' object has no attribute 'get'`;
  return Object.hasOwn(car, key) ? car[key] : null;
}

function initialDbUpdate(condition, plan, emergency) {
  if (isNumber(condition)) dbset(`${K}condition`, condition);
  if (plan !== null) {
    if (!Array.isArray(plan)) throw `TypeError: the plan is not a list`;
    dbset(`${K}plates`, plan.map((car) => carField(car, 'plate')));
    dbset(`${K}directions`, plan.map((car) => carField(car, 'direction')));
    dbset(`${K}speeds`, plan.map((car) => carField(car, 'speed')));
  }
  // Active emergencies are handled immediately. (`active` is always there, true or false, so
  // the original never took its branch for a finished emergency.)
  if (emergency !== null) {
    if (carField(emergency, 'active') !== null) {
      if (!Object.hasOwn(emergency, 'type')) throw `KeyError: 'type'`;
      dbset(`${K}lights`, ['yellow']);
      dbset(`${K}blink`, true);
      dbset(`${K}emergency`, true);
      dbset(`${K}emergencytype`, emergency.type);
    } else {
      dbset(`${K}emergency`, false);
      dbset(`${K}emergencytype`, null);
    }
  }
}

/** True when the lights were locked already; otherwise locks them. */
function checkAndLock() {
  if (is(dbget(`${K}lock`), true)) return true;
  dbset(`${K}lock`, true);
  return false;
}

function checkAndUnlock() {
  if (is(dbget(`${K}lock`), false)) return true;
  dbset(`${K}lock`, false);
  return false;
}

/** time.sleep(int(condition / 2 + 2)): 2 to 4 s. The guest has no sleep, so it spins on the clock. */
function waitAppropriately() {
  const stored = dbget(`${K}condition`);
  const condition = truthy(stored) ? comparable(stored, 'condition') : 0;
  const until = Date.now() + Math.trunc(condition / 2 + 2) * 1000;
  while (Date.now() < until) {
    // spin
  }
}

function lights(colors, blink) {
  dbset(`${K}lights`, colors);
  dbset(`${K}blink`, blink);
}

function changeLight() {
  // Emergencies rule.
  if (truthy(dbget(`${K}emergency`))) {
    lights(['yellow'], true);
    return;
  }
  // With no movement plan or cars, red (so pedestrians are happy); also when anyone speeds.
  const plates = dbget(`${K}plates`);
  const speeds = dbget(`${K}speeds`);
  const speeding = () => {
    if (!Array.isArray(speeds)) throw `TypeError: the stored speeds are not a list`;
    return speeds.some((s) => float(s) > 50);
  };
  if (!truthy(plates) || speeding()) {
    lights(['yellow'], false);
    waitAppropriately();
    lights(['red'], false);
  } else {
    lights(['yellow', 'red'], false);
    waitAppropriately();
    lights(['green'], false);
  }
  if (truthy(dbget(`${K}emergency`))) lights(['yellow'], true);
}

export const handler = befaasHandler((inputs) => {
  if (!isDict(inputs)) throw `the context's data is not an object`;
  const get = (k) => (Object.hasOwn(inputs, k) ? inputs[k] : null);
  const [plan, emergency, condition] = [get('plan'), get('emergency'), get('condition')];

  if (!isNumber(condition) && !truthy(plan) && !truthy(emergency)) {
    // The read side (BeFaaS's getlightphasecalculation), not part of the workload.
    return { lights: dbget(`${K}lights`), blink: is(dbget(`${K}blink`), true) };
  }
  initialDbUpdate(condition, plan, emergency);
  if (checkAndLock()) return null;
  changeLight();
  checkAndUnlock();
  return null;
});
