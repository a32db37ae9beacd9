/**
 * Payload filters: a webhook's optional `filter` on the event, besides its
 * event types. Pure logic: `validateFilter` lists the problems of a filter
 * (each naming the path), `compileFilter` turns a valid one into a
 * predicate, built once per webhook version and cached by WebhooksService.
 *
 * Syntax (the README's "Payload filters" section):
 *
 *   { "data.service": { "$in": ["nginx", "api"] }, "data.node": "edge-1",
 *     "$or": [ { "data.cpu": { "$gte": 90 } }, { "event": "system.error" } ] }
 *
 * - Keys are paths or `$or` / `$and` (arrays of filters). All keys of one
 *   object must hold (an implicit AND).
 * - A path is dotted into the delivered envelope: `data` and `data.a.b…`
 *   (the event data; a numeric segment indexes an array, `data.items.0.id`),
 *   or `event` (the event type; `type` is accepted as a synonym).
 * - A path's value is an operator object (`$eq $neq $in $nin $gt $gte $lt
 *   $lte $exists`, several in one object must all hold) or a scalar
 *   (string, number, boolean, null), short for `$eq`.
 * - `$eq` / `$neq` / `$in` / `$nin` compare scalars by value (a number never
 *   equals a string). A missing path matches `$neq`, `$nin` and
 *   `$exists: false` only. `$gt $gte $lt $lte` take a number or a string and
 *   hold only when the value is of the same type (strings compare by code
 *   unit, so ISO 8601 timestamps order as times).
 */

export type Scalar = string | number | boolean | null;
export type PayloadFilter = Record<string, unknown>;
/** What a filter is evaluated against: the event type and its data. */
export interface FilterInput {
  type: string;
  data: unknown;
}
export type FilterPredicate = (event: FilterInput) => boolean;

export const FILTER_LIMITS = {
  /** Nesting of `$or` / `$and`. */
  depth: 5,
  /** Conditions (operator entries) in the whole filter. */
  conditions: 100,
  /** Entries of one `$in` / `$nin` list, or of one `$or` / `$and`. */
  listItems: 100,
  /** Segments of a path after `data`. */
  pathSegments: 10,
  pathLength: 256,
  stringLength: 1000,
  /** The filter as JSON text. */
  bytes: 16_384,
} as const;

export const FILTER_OPERATORS = ['$eq', '$neq', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists'] as const;
type Operator = (typeof FILTER_OPERATORS)[number];
const OPERATORS = new Set<string>(FILTER_OPERATORS);
const LOGICAL = new Set(['$or', '$and']);
const SEGMENT = /^[^.\s$][^.]*$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isScalar(v: unknown): v is Scalar {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** The segments of a path relative to the envelope, or a problem. */
function parsePath(path: string): { segments: string[] } | { problem: string } {
  if (path.length > FILTER_LIMITS.pathLength) return { problem: `is longer than ${FILTER_LIMITS.pathLength} characters` };
  if (path === 'event' || path === 'type') return { segments: ['event'] };
  if (path === 'data') return { segments: ['data'] };
  if (!path.startsWith('data.')) {
    return { problem: 'is not a valid path: paths are "event" (the event type; "type" also works) or "data" / "data.<field>…" (the event data)' };
  }
  const rest = path.slice(5).split('.');
  if (rest.length > FILTER_LIMITS.pathSegments) return { problem: `has more than ${FILTER_LIMITS.pathSegments} segments after "data"` };
  if (rest.some((s) => !SEGMENT.test(s))) return { problem: 'has an empty segment or a segment starting with "$" or a space' };
  return { segments: ['data', ...rest] };
}

/** Problems with a filter (empty when it is valid); each names the filter path where it is. null and undefined (no filter) are valid. */
export function validateFilter(filter: unknown): string[] {
  if (filter === undefined || filter === null) return [];
  if (!isPlainObject(filter)) return [`filter must be a JSON object (or null for no filter), got ${typeName(filter)}`];
  const text = JSON.stringify(filter);
  if (Buffer.byteLength(text, 'utf8') > FILTER_LIMITS.bytes) return [`filter must be at most ${FILTER_LIMITS.bytes} bytes as JSON`];
  const problems: string[] = [];
  let conditions = 0;
  const problem = (where: string, what: string) => {
    if (problems.length < 20) problems.push(`${where} ${what}`);
  };

  const checkOperand = (where: string, op: Operator, v: unknown) => {
    switch (op) {
      case '$eq':
      case '$neq':
        if (!isScalar(v)) problem(where, `takes a string, number, boolean or null, got ${typeName(v)}`);
        else if (typeof v === 'string' && v.length > FILTER_LIMITS.stringLength)
          problem(where, `string is longer than ${FILTER_LIMITS.stringLength} characters`);
        return;
      case '$in':
      case '$nin':
        if (!Array.isArray(v)) return problem(where, `takes an array of strings, numbers, booleans or null, got ${typeName(v)}`);
        if (v.length === 0) return problem(where, 'must not be empty');
        if (v.length > FILTER_LIMITS.listItems) return problem(where, `may hold at most ${FILTER_LIMITS.listItems} values, got ${v.length}`);
        v.forEach((item, i) => {
          if (!isScalar(item)) problem(`${where}[${i}]`, `must be a string, number, boolean or null, got ${typeName(item)}`);
          else if (typeof item === 'string' && item.length > FILTER_LIMITS.stringLength)
            problem(`${where}[${i}]`, `is longer than ${FILTER_LIMITS.stringLength} characters`);
        });
        return;
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        if (!(typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) problem(where, `takes a number or a string, got ${typeName(v)}`);
        else if (typeof v === 'string' && v.length > FILTER_LIMITS.stringLength)
          problem(where, `string is longer than ${FILTER_LIMITS.stringLength} characters`);
        return;
      case '$exists':
        if (typeof v !== 'boolean') problem(where, `takes true or false, got ${typeName(v)}`);
        return;
    }
  };

  const walk = (node: unknown, where: string, depth: number) => {
    if (!isPlainObject(node)) return problem(where, `must be an object of conditions, got ${typeName(node)}`);
    for (const [key, value] of Object.entries(node)) {
      const at = where === 'filter' ? `filter.${key}` : `${where}.${key}`;
      if (LOGICAL.has(key)) {
        if (depth >= FILTER_LIMITS.depth) {
          problem(at, `is nested too deep: at most ${FILTER_LIMITS.depth} levels of $or / $and`);
          continue;
        }
        if (!Array.isArray(value)) {
          problem(at, `takes an array of filters, got ${typeName(value)}`);
          continue;
        }
        if (value.length === 0) problem(at, 'must not be empty');
        if (value.length > FILTER_LIMITS.listItems) problem(at, `may hold at most ${FILTER_LIMITS.listItems} filters, got ${value.length}`);
        value.slice(0, FILTER_LIMITS.listItems).forEach((sub, i) => walk(sub, `${at}[${i}]`, depth + 1));
        continue;
      }
      if (key.startsWith('$')) {
        problem(at, `is not a known operator here: use a path as the key, or $or / $and (path operators: ${FILTER_OPERATORS.join(' ')})`);
        continue;
      }
      const path = parsePath(key);
      if ('problem' in path) {
        problem(`${where === 'filter' ? 'filter' : where}: path ${show(key)}`, path.problem);
        continue;
      }
      if (isPlainObject(value)) {
        const ops = Object.entries(value);
        if (ops.length === 0) problem(at, 'must hold at least one operator');
        for (const [op, operand] of ops) {
          if (!OPERATORS.has(op)) {
            problem(`${at}.${op}`, `is not a known operator; use ${FILTER_OPERATORS.join(' ')}`);
            continue;
          }
          conditions++;
          checkOperand(`${at}.${op}`, op as Operator, operand);
        }
      } else if (isScalar(value)) {
        conditions++;
        checkOperand(at, '$eq', value);
      } else {
        problem(at, `must be an operator object (e.g. {"$eq": …}) or a string, number, boolean or null, got ${typeName(value)}`);
      }
    }
  };

  walk(filter, 'filter', 0);
  if (conditions > FILTER_LIMITS.conditions) problems.unshift(`filter has ${conditions} conditions, more than the limit of ${FILTER_LIMITS.conditions}`);
  return problems;
}

/** Does the filter select everything (null, undefined or `{}`)? Such filters are stored as null. */
export function isEmptyFilter(filter: unknown): boolean {
  return filter === undefined || filter === null || (isPlainObject(filter) && Object.keys(filter).length === 0);
}

const MISSING = Symbol('missing');
type Value = unknown;

function resolver(segments: string[]): (e: FilterInput) => Value {
  if (segments[0] === 'event') return (e) => e.type;
  const rest = segments.slice(1);
  return (e) => {
    let v: unknown = e.data;
    for (const s of rest) {
      if (Array.isArray(v)) {
        if (!/^\d+$/.test(s)) return MISSING;
        v = v[Number(s)];
      } else if (isPlainObject(v)) {
        if (!Object.prototype.hasOwnProperty.call(v, s)) return MISSING;
        v = v[s];
      } else {
        return MISSING;
      }
      if (v === undefined) return MISSING;
    }
    return v;
  };
}

function test(op: Operator, operand: unknown): (v: Value) => boolean {
  switch (op) {
    case '$eq':
      return (v) => v === operand;
    case '$neq':
      return (v) => v !== operand;
    case '$in': {
      const set = new Set(operand as Scalar[]);
      return (v) => v !== MISSING && isScalar(v) && set.has(v);
    }
    case '$nin': {
      const set = new Set(operand as Scalar[]);
      return (v) => !(isScalar(v) && set.has(v));
    }
    case '$gt':
      return (v) => typeof v === typeof operand && (v as number | string) > (operand as number | string);
    case '$gte':
      return (v) => typeof v === typeof operand && (v as number | string) >= (operand as number | string);
    case '$lt':
      return (v) => typeof v === typeof operand && (v as number | string) < (operand as number | string);
    case '$lte':
      return (v) => typeof v === typeof operand && (v as number | string) <= (operand as number | string);
    case '$exists':
      return operand ? (v) => v !== MISSING : (v) => v === MISSING;
  }
}

function all(preds: FilterPredicate[]): FilterPredicate {
  if (preds.length === 1) return preds[0];
  return (e) => {
    for (const p of preds) if (!p(e)) return false;
    return true;
  };
}

function compileNode(node: Record<string, unknown>): FilterPredicate {
  const preds: FilterPredicate[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === '$or') {
      const subs = (value as Array<Record<string, unknown>>).map(compileNode);
      preds.push((e) => {
        for (const p of subs) if (p(e)) return true;
        return false;
      });
    } else if (key === '$and') {
      preds.push(all((value as Array<Record<string, unknown>>).map(compileNode)));
    } else {
      const path = parsePath(key);
      if ('problem' in path) throw new Error(`invalid filter path ${key}`);
      const get = resolver(path.segments);
      const checks = isPlainObject(value) ? Object.entries(value).map(([op, operand]) => test(op as Operator, operand)) : [test('$eq', value)];
      if (checks.length === 1) {
        const [check] = checks;
        preds.push((e) => check(get(e)));
      } else {
        preds.push((e) => {
          const v = get(e);
          for (const c of checks) if (!c(v)) return false;
          return true;
        });
      }
    }
  }
  if (preds.length === 0) return () => true;
  return all(preds);
}

/** The predicate of a filter (throws on an invalid one: validate first). An empty filter matches everything. */
export function compileFilter(filter: PayloadFilter | null | undefined): FilterPredicate {
  if (isEmptyFilter(filter)) return () => true;
  const problems = validateFilter(filter);
  if (problems.length) throw new Error(`invalid filter: ${problems.join('; ')}`);
  return compileNode(filter!);
}
