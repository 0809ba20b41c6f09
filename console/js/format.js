// Formatting. Money is formatted from its decimal STRING, digit by digit, never through a float.

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d*))?$/;

function group(integer) {
  const digits = integer.replace(/^0+(?=\d)/, '');
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "1234567.80" -> "¥1,234,567.80"; "-5" -> "-¥5.00"; anything that is not a decimal is shown as it is. */
export function yuan(value) {
  if (value === null || value === undefined || value === '') return '—';
  const text = typeof value === 'string' ? value.trim() : String(value);
  const match = DECIMAL.exec(text);
  if (!match) return text;
  const [, sign, integer, fraction = ''] = match;
  const cents = fraction.length >= 2 ? fraction : fraction.padEnd(2, '0');
  const negative = sign === '-' && /[1-9]/.test(integer + fraction);
  return `${negative ? '-' : ''}¥${group(integer)}.${cents}`;
}

/** A count or other integer with thousands separators ("1234" -> "1,234"). */
export function count(value) {
  if (value === null || value === undefined || value === '') return '—';
  const text = String(value);
  const match = DECIMAL.exec(text);
  if (!match) return text;
  const [, sign, integer, fraction] = match;
  return `${sign === '-' ? '-' : ''}${group(integer)}${fraction ? '.' + fraction : ''}`;
}

/** A rate as a decimal string ("0.7500") as a percentage ("75.00%"), shifting the point in the string. */
export function percent(value) {
  if (value === null || value === undefined || value === '') return '—';
  const text = String(value).trim();
  const match = DECIMAL.exec(text);
  if (!match) return text;
  const [, sign, integer, fraction = ''] = match;
  const padded = fraction.padEnd(2, '0');
  const whole = (integer + padded.slice(0, 2)).replace(/^0+(?=\d)/, '');
  const rest = padded.slice(2).padEnd(2, '0');
  return `${sign === '-' ? '-' : ''}${whole}.${rest}%`;
}

/** A decimal string as a Number for a chart's geometry only (never shown as text). */
export function chartNumber(value) {
  const n = Number(value);
  return Number.isFinite(n) ? n : 0;
}

let timeZone = 'Asia/Shanghai';
export function setTimeZone(zone) {
  if (zone) timeZone = zone;
}

/** An ISO timestamp in the bank's time zone, "2026-11-29 18:17:30"; a plain date stays as it is. */
export function dateTime(value) {
  if (!value) return '—';
  const text = String(value);
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return text;
  const when = new Date(text);
  if (Number.isNaN(when.getTime())) return text;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    }).formatToParts(when).map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

const MONEY_KEYS = /(amount|principal|interest|penalty|fee|limit|total|balance|remaining|used|position|position_available|outstanding|due|paid|income|cap|debt|repayment|accrued|_max|_min)$/i;
const NOT_MONEY_KEYS = /(rate|ratio|count|days|months|term|version|score|pd|_no|_id)$/i;

/** Whether a field holds money (by its name and its value, a decimal string with 2 places). */
export function looksLikeMoney(key, value) {
  return typeof value === 'string' && /^-?\d+\.\d{2}$/.test(value) && MONEY_KEYS.test(key || '') && !NOT_MONEY_KEYS.test(key || '');
}

export function isTimestampKey(key, value) {
  return typeof value === 'string' && /(_at|_time|timestamp|^at)$/.test(key || '') && /^\d{4}-\d{2}-\d{2}T/.test(value);
}

/** The sum of decimal strings, exactly (BigInt in units of the smallest place given), as a decimal string. */
export function sumDecimals(values) {
  const parsed = values.filter((v) => v !== null && v !== undefined && v !== '').map((v) => DECIMAL.exec(String(v).trim())).filter(Boolean);
  const places = Math.max(2, ...parsed.map((m) => (m[3] || '').length));
  let total = 0n;
  for (const [, sign, integer, fraction = ''] of parsed) {
    const units = BigInt(integer + fraction.padEnd(places, '0'));
    total += sign === '-' ? -units : units;
  }
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(places + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -places)}.${digits.slice(-places)}`;
}
