// What a guest may put in its response's header fields, in either world. The node owns the
// connection and the message's framing: fields about the connection are not the guest's to set
// (wasmtime and Spin refuse the same ones to wasi:http guests), and a content-length must tell
// the body's true length. A content-length that lies would leave the client waiting for bytes
// that never come, or, shorter than the body, put the rest of it in front of the next response on
// the same connection.

/** RFC 9110 token: a field name. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Hop-by-hop and connection-level fields (and `trailer`: the node sends no trailers). */
export const CONNECTION_FIELDS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings', 'te', 'trailer']);

/** Statuses whose responses carry no content, whatever their content-length says. */
const NO_CONTENT = new Set([204, 205, 304]);

/**
 * Whether a response carries no content (to HEAD; 204, 205, 304), so that its content-length may
 * state what a GET would get rather than its own body's length.
 */
export function withoutContent(status: number, method: string | undefined): boolean {
  return method === 'HEAD' || NO_CONTENT.has(status);
}

/**
 * Why a response of Enoki's world cannot be sent as the guest gave it; undefined when it can.
 * `method` is the request's: a response to HEAD carries no content either.
 */
export function responseFieldsProblem(status: number, headers: [string, string][], bodyBytes: number, method: string | undefined): string | undefined {
  let length: string | undefined;
  for (const [name, value] of headers) {
    if (typeof name !== 'string' || !TOKEN.test(name)) return `invalid header name ${JSON.stringify(name)}`;
    if (typeof value !== 'string' || /[\0\r\n]/.test(value)) return `invalid value of header ${JSON.stringify(name)}`;
    const lower = name.toLowerCase();
    if (CONNECTION_FIELDS.has(lower)) return `the header ${JSON.stringify(name)} is about the connection, which the node manages`;
    if (lower !== 'content-length') continue;
    const given = value.trim();
    if (!/^\d+$/.test(given)) return `malformed content-length ${JSON.stringify(value)}`;
    if (length !== undefined && given !== length) return `content-length given as both ${length} and ${given}`;
    length = given;
  }
  if (length !== undefined && !withoutContent(status, method) && Number(length) !== bodyBytes) {
    return `its content-length says ${length}, its body has ${bodyBytes} bytes`;
  }
  return undefined;
}
