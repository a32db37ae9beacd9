/**
 * Ours, not a library: the npm canonical-JSON packages (canonicalize, json-stable-stringify,
 * fast-json-stable-stringify) write RFC 8785 or JSON.stringify's compact form: no `", "`/`": "`
 * separators, no `ensure_ascii` escaping, JavaScript's number forms, UTF-16 key order; none gives
 * Python's bytes, which the ATLAS verifier compares against.
 *
 * Serialises a JSON value exactly as Python's `json.dumps(value, sort_keys=True)`
 * does, so that `json.dumps(json.loads(body), sort_keys=True) == body`: the ATLAS
 * verifier (which re-serialises the parsed body) and receivers that hash the raw
 * body both get the same bytes.
 *
 * - separators `", "` and `": "`;
 * - keys sorted by Unicode code point (not UTF-16 unit, as JS `sort` would);
 * - `ensure_ascii`: everything outside space..`~` escaped as `\uXXXX` (lowercase
 *   hex, UTF-16 surrogate pairs above U+FFFF, DEL too), with Python's short forms
 *   for `\" \\ \n \r \t \b \f`;
 * - numbers: integral values as digits (Python reads them back as int and prints
 *   the same digits); other floats in Python's `repr` form (`1e-05`, not `0.00001`);
 *   NaN/Infinity (not valid JSON) become null, as in `JSON.stringify`.
 */

export class CanonicalJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanonicalJsonError';
  }
}

const MAX_DEPTH = 64;

const SHORT_ESCAPES: Record<number, string> = {
  0x22: '\\"',
  0x5c: '\\\\',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
  0x08: '\\b',
  0x0c: '\\f',
};

export function canonicalString(value: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    if (i > start) out += value.slice(start, i);
    out += SHORT_ESCAPES[c] ?? '\\u' + c.toString(16).padStart(4, '0');
    start = i + 1;
  }
  if (start < value.length) out += start === 0 ? value : value.slice(start);
  return out + '"';
}

export function canonicalNumber(n: number): string {
  if (!Number.isFinite(n)) return 'null';
  if (Number.isInteger(n)) return Object.is(n, -0) ? '0' : String(n).replace(/e\+(\d)$/, 'e+0$1');
  const abs = Math.abs(n);
  if (abs >= 1e-4) return String(n); // same digits and fixed notation as Python repr in this range
  return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
}

/**
 * Compares two strings by Unicode code point, as Python's `sorted` does. A UTF-16
 * unit comparison (JS `sort`) differs above U+FFFF, and a unit remap differs for
 * lone surrogates (Python orders U+D800 below U+E000); reading code points with
 * codePointAt handles both. Equal code points have equal widths, so one index serves.
 */
export function compareCodePoints(a: string, b: string): number {
  const len = Math.min(a.length, b.length);
  for (let i = 0; i < len;) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

function write(value: unknown, depth: number): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return canonicalString(value);
    case 'number':
      return canonicalNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (depth > MAX_DEPTH) throw new CanonicalJsonError(`JSON is nested deeper than ${MAX_DEPTH} levels`);
  const obj = value as { toJSON?: () => unknown };
  if (typeof obj.toJSON === 'function') return write(obj.toJSON(), depth);
  if (Array.isArray(value)) {
    const parts = value.map((item) => write(item, depth + 1) ?? 'null');
    return '[' + parts.join(', ') + ']';
  }
  const keys = Object.keys(value).sort(compareCodePoints);
  const parts: string[] = [];
  for (const key of keys) {
    const item = write((value as Record<string, unknown>)[key], depth + 1);
    if (item !== undefined) parts.push(canonicalString(key) + ': ' + item);
  }
  return '{' + parts.join(', ') + '}';
}

/** The canonical text of a JSON value (see the module comment). */
export function canonicalJson(value: unknown): string {
  const out = write(value, 0);
  if (out === undefined) throw new CanonicalJsonError('Value has no JSON representation');
  return out;
}
