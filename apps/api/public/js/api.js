// Fetch wrapper: JSON in and out, the API key on mutating requests, errors that keep the field
// the API named so the form can show them next to it.

const KEY_STORAGE = 'detsearch.apiKey';

export const apiKey = {
  get: () => localStorage.getItem(KEY_STORAGE) ?? '',
  set: (value) => localStorage.setItem(KEY_STORAGE, value),
};

/** An HTTP error: `status`, the message, and the API's per-field issues ({field, message}). */
export class ApiError extends Error {
  constructor(status, message, issues = []) {
    super(message);
    this.status = status;
    this.issues = issues;
  }
}

export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const key = apiKey.get();
  if (key && method !== 'GET') headers['x-api-key'] = key;
  const res = await fetch(path, {
    method,
    headers,
    signal,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const text = await res.text();
  const isJson = res.headers.get('content-type')?.includes('json');
  const data = text && isJson ? JSON.parse(text) : text;
  if (!res.ok) {
    const message =
      data && typeof data === 'object' ? [].concat(data.message ?? res.statusText).join('; ') : String(data);
    const issues =
      data && typeof data === 'object'
        ? (data.issues ?? (data.field ? [{ field: data.field, message }] : []))
        : [];
    throw new ApiError(res.status, message, issues);
  }
  return data;
}

/** The same, but null on 404 (optional routes another version of the server may lack). */
export async function optional(path, options) {
  try {
    return await api(path, options);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return null;
    throw err;
  }
}

export const enc = encodeURIComponent;
