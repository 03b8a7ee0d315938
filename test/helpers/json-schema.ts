// A JSON Schema check of the parts of 2020-12 the node's OpenAPI document uses ($ref, allOf,
// type, enum, const, properties, required, additionalProperties, items, minimum, maximum,
// minLength, maxLength, pattern), for tests that compare real answers with the document.
// Keywords it does not know are an error, so that the document cannot outgrow the check unseen.

type Schema = Record<string, unknown>;

const KNOWN = new Set([
  '$ref', 'allOf', 'type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'items',
  'minimum', 'maximum', 'minLength', 'maxLength', 'pattern', 'format', 'description', 'examples', 'default',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Problems found validating `value` against `schema` (empty when it conforms). */
export function validate(value: unknown, schema: Schema, root: Schema, at = '$'): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(schema)) if (!KNOWN.has(key)) problems.push(`${at}: the check does not know the keyword "${key}"`);
  if (typeof schema.$ref === 'string') {
    const target = schema.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((node, part) => (node as Schema | undefined)?.[part], root);
    if (!target) return [`${at}: unresolved $ref ${schema.$ref}`];
    problems.push(...validate(value, target as Schema, root, at));
  }
  for (const part of (schema.allOf as Schema[] | undefined) ?? []) problems.push(...validate(value, part, root, at));
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const allowed = ([] as string[]).concat(schema.type as string | string[]);
    if (!allowed.includes(actual) && !(actual === 'integer' && allowed.includes('number'))) return [...problems, `${at}: ${actual}, expected ${allowed.join('|')}`];
  }
  if (schema.enum && !(schema.enum as unknown[]).some((v) => v === value)) problems.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if ('const' in schema && schema.const !== value) problems.push(`${at}: ${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) problems.push(`${at}: ${value} < ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) problems.push(`${at}: ${value} > ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) problems.push(`${at}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) problems.push(`${at}: longer than ${schema.maxLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) problems.push(`${at}: does not match ${schema.pattern}`);
  }
  if (actual === 'array' && schema.items) (value as unknown[]).forEach((v, i) => problems.push(...validate(v, schema.items as Schema, root, `${at}[${i}]`)));
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const name of (schema.required as string[] | undefined) ?? []) if (!(name in object)) problems.push(`${at}: missing ${name}`);
    for (const [name, v] of Object.entries(object)) {
      if (properties[name]) problems.push(...validate(v, properties[name], root, `${at}.${name}`));
      else if (schema.additionalProperties === false) problems.push(`${at}: unexpected property ${name}`);
      else if (typeof schema.additionalProperties === 'object') problems.push(...validate(v, schema.additionalProperties as Schema, root, `${at}.${name}`));
    }
  }
  return problems;
}
