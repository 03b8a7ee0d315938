// Calls to the node's API with the admin token from this tab's session storage, as a bearer
// header (never in a URL). Errors come back as ApiError with the node's stable code.

const KEY = 'enoki.adminToken';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(code ? `${code}: ${message}` : message);
    this.status = status;
    this.code = code;
  }
}

/** Called when the node refuses the token (401): the console goes back to the sign-in form. */
let onUnauthorized = () => undefined;
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export async function api(method, path, { body, headers = {}, auth = true } = {}) {
  const init = { method, headers: { ...headers }, body };
  if (auth) init.headers.authorization = `Bearer ${token.get() ?? ''}`;
  const res = await fetch(path, init);
  const type = res.headers.get('content-type') ?? '';
  const data = type.startsWith('application/json') ? await res.json() : await res.text();
  if (!res.ok) {
    const error = typeof data === 'object' && data?.error ? new ApiError(res.status, data.error.code, data.error.message) : new ApiError(res.status, undefined, `${res.status} ${res.statusText}`);
    if (res.status === 401 && auth) onUnauthorized(error);
    throw error;
  }
  return data;
}

export const enc = encodeURIComponent;
