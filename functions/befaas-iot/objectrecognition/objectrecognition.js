// objectrecognition (BeFaaS IoT, at the edge, the entry of the camera workflow): "recognises"
// objects in an uploaded image and hands them to trafficstatistics (asynchronously),
// emergencydetection and movementplan (synchronously, in that order). Answers the objects.
// Ported from OpenFogStack/enoki functions/5_befaas-iot/objectrecognition/fn.py.
//
//   in:  {"image": "<base64 of a JPEG file>"}
//   out: {"objects": [{"type": "car", "positionx": 175, "positiony": 75, "boundx": 202, "boundy": 135}, ...]}
//
// There is no recognition, as in the original: the objects are a random sample (of a random size,
// 0 to 11) of a fixed list, plus an ambulance when the byte at offset 54 of the decoded image is
// not 0. The original took that byte for the red value of the first pixel; in a JPEG file it is
// part of the headers (a quantisation table), so which image "shows" an ambulance says nothing
// about its picture. Built with the `random` WASI feature.

import { befaasHandler, call } from '../befaas.js';
import { field } from '../python.js';

const EMERGENCY_OBJECT = { type: 'ambulance', positionx: 55, positiony: 135, boundx: 114, boundy: 175 };

const POSSIBLE_OBJECTS = [
  { type: 'car', positionx: 175, positiony: 75, boundx: 202, boundy: 135 },
  { type: 'car', positionx: 34, positiony: 44, boundx: 61, boundy: 70 },
  { type: 'car', positionx: 118, positiony: 94, boundx: 184, boundy: 124 },
  { type: 'car', positionx: 158, positiony: 148, boundx: 186, boundy: 219 },
  { type: 'person', positionx: 23, positiony: 141, boundx: 60, boundy: 215 },
  { type: 'person', positionx: 168, positiony: 120, boundx: 192, boundy: 136 },
  { type: 'person', positionx: 194, positiony: 129, boundx: 230, boundy: 155 },
  { type: 'plate', positionx: 182, positiony: 151, boundx: 232, boundy: 195 },
  { type: 'plate', positionx: 74, positiony: 28, boundx: 99, boundy: 82 },
  { type: 'dog', positionx: 109, positiony: 53, boundx: 175, boundy: 82 },
  { type: 'ball', positionx: 39, positiony: 137, boundx: 109, boundy: 170 },
];

/** Where the original looked for the "red pixel". */
const PIXEL_OFFSET = 54;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SEXTETS = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) SEXTETS[ALPHABET.charCodeAt(i)] = i;

/**
 * base64.b64decode(s): characters outside the alphabet are skipped (validate=False); the data
 * must be padded to whole quadruples, as Python required.
 */
export function b64decode(s) {
  const sextets = [];
  let padding = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 61 /* = */) {
      padding++;
      continue;
    }
    const v = c < 128 ? SEXTETS[c] : -1;
    if (v >= 0 && padding === 0) sextets.push(v);
  }
  if ((sextets.length + padding) % 4 !== 0 || sextets.length % 4 === 1) throw 'binascii.Error: Incorrect padding';
  const out = new Uint8Array(Math.floor((sextets.length * 6) / 8));
  let bits = 0;
  let acc = 0;
  let n = 0;
  for (const v of sextets) {
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** random.sample(population, k): k distinct elements in random order. */
function sample(population, k) {
  const pool = population.slice();
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(Math.random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, k);
}

export const handler = befaasHandler((inputs, ctx) => {
  const image = field(inputs, 'image');
  if (typeof image !== 'string') return { error: 'Wrong payload.' };

  const decoded = b64decode(image);
  if (decoded.length <= PIXEL_OFFSET) throw `struct.error: the image has ${decoded.length} bytes, no byte at offset ${PIXEL_OFFSET}`;
  // random.randint(0, n) includes n.
  const objects = sample(POSSIBLE_OBJECTS, Math.floor(Math.random() * (POSSIBLE_OBJECTS.length + 1)));
  if (decoded[PIXEL_OFFSET] > 0) objects.push(EMERGENCY_OBJECT);

  const res = { objects };
  call(ctx, 'trafficstatistics', res, true);
  call(ctx, 'emergencydetection', res, false);
  call(ctx, 'movementplan', res, false);
  return res;
});
