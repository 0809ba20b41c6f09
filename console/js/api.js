// The back-office API: relative URLs (same origin locally and behind CloudFront), the bearer token
// from sessionStorage, errors in the contract's shape {code, message, details: [{field, message}]}.

const SESSION_KEY = 'console.session';
let apiBase = '';
let onUnauthorized = () => {};

export function configureApi({ base, unauthorized } = {}) {
  if (typeof base === 'string') apiBase = base.replace(/\/$/, '');
  if (unauthorized) onUnauthorized = unauthorized;
}

export function session() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
    if (!saved || !saved.id_token) return null;
    if (saved.expires_at && Date.now() > saved.expires_at) {
      sessionStorage.removeItem(SESSION_KEY);
      return null;
    }
    return saved;
  } catch {
    return null;
  }
}

export function saveSession(answer) {
  const expiresIn = Number(answer.expires_in);
  const saved = {
    id_token: answer.id_token,
    operator: answer.operator || {},
    expires_at: Number.isFinite(expiresIn) && expiresIn > 0 ? Date.now() + expiresIn * 1000 : null,
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(saved));
  return saved;
}

export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

export class ApiError extends Error {
  constructor(status, body) {
    const shaped = body && typeof body === 'object' ? body : {};
    super(shaped.message || `HTTP ${status}`);
    this.status = status;
    this.code = shaped.code || `HTTP_${status}`;
    this.details = Array.isArray(shaped.details) ? shaped.details : [];
  }
}

/** Query string of the given params, leaving out empty ones. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export async function api(path, { method = 'GET', body, params, anonymous = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const current = session();
  if (!anonymous) {
    if (!current) {
      onUnauthorized();
      throw new ApiError(401, { code: 'NOT_LOGGED_IN', message: 'not logged in' });
    }
    headers.Authorization = `Bearer ${current.id_token}`;
  }
  let response;
  try {
    response = await fetch(apiBase + path + query(params), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (exc) {
    throw new ApiError(0, { code: 'NETWORK', message: String(exc && exc.message ? exc.message : exc) });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { code: `HTTP_${response.status}`, message: text.slice(0, 200) }; }
  }
  if (response.status === 401 && !anonymous) {
    clearSession();
    onUnauthorized();
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
