// Python's semantics where the BeFaaS functions' behaviour depends on them (the originals are
// Python): truthiness, `len`, numbers that compare, and the TypeError/KeyError a bad input
// raised, which failed the call with a 500. A thrown string is the guest's `err` (a 500).

/** Python's `bool(x)` for JSON values: None, False, 0, "", [] and {} are false. */
export function truthy(x) {
  if (x === null || x === undefined) return false;
  if (Array.isArray(x)) return x.length > 0;
  if (typeof x === 'object') return Object.keys(x).length > 0;
  return Boolean(x);
}

/** A JSON object (Python dict). */
export function isDict(x) {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** `d.get(key)`: the value, or null when absent. `d` must be a dict, as `.get` needed. */
export function field(d, key) {
  if (!isDict(d)) throw `'${typeName(d)}' object has no attribute 'get'`;
  return Object.hasOwn(d, key) ? d[key] : null;
}

/** `d[key]` on a dict: a KeyError (or TypeError) when it is not there. */
export function item(d, key) {
  if (!isDict(d)) throw `'${typeName(d)}' object is not subscriptable`;
  if (!Object.hasOwn(d, key)) throw `KeyError: '${key}'`;
  return d[key];
}

/** A value Python compares with a float: int, float or bool. Anything else was a TypeError. */
export function comparable(x, what) {
  if (typeof x === 'number') return x;
  if (typeof x === 'boolean') return x ? 1 : 0;
  throw `TypeError: '${what}' is ${typeName(x)}, not a number`;
}

/** `isinstance(x, (int, float))` (bool is an int in Python). */
export function isNumber(x) {
  return typeof x === 'number' || typeof x === 'boolean';
}

/** `len(x)` for a list, string or dict; a TypeError otherwise. */
export function len(x) {
  if (Array.isArray(x) || typeof x === 'string') return x.length;
  if (isDict(x)) return Object.keys(x).length;
  throw `TypeError: object of type '${typeName(x)}' has no len()`;
}

/** `float(x)` for the values JSON gives: numbers, bools and numeric strings. */
export function float(x) {
  if (typeof x === 'number') return x;
  if (typeof x === 'boolean') return x ? 1 : 0;
  if (typeof x === 'string' && /^\s*[+-]?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?|inf(inity)?|nan)\s*$/i.test(x)) {
    const t = x.trim().toLowerCase().replace(/^\+/, '');
    if (/^-?inf/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
    return t.endsWith('nan') ? NaN : Number(t);
  }
  throw `ValueError: could not convert ${typeName(x)} to float: ${JSON.stringify(x)}`;
}

function typeName(x) {
  if (x === null || x === undefined) return 'NoneType';
  if (Array.isArray(x)) return 'list';
  if (typeof x === 'object') return 'dict';
  if (typeof x === 'string') return 'str';
  if (typeof x === 'boolean') return 'bool';
  return Number.isInteger(x) ? 'int' : 'float';
}
