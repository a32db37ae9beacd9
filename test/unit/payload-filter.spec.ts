import { compileFilter, FILTER_LIMITS, isEmptyFilter, validateFilter } from '../../src/webhooks/payload-filter';

const event = {
  type: 'service.started',
  data: {
    service: 'nginx',
    node: 'edge-1',
    cpu: 92.5,
    replicas: 3,
    up: true,
    owner: null,
    at: '2026-12-03T10:00:00Z',
    tags: ['a', 'b'],
    nested: { x: { y: 7 } },
  },
};
const matches = (filter: Record<string, unknown>, e: { type: string; data: unknown } = event) => compileFilter(filter)(e);

describe('compileFilter', () => {
  const cases: Array<[string, Record<string, unknown>, boolean]> = [
    ['$in hit', { 'data.service': { $in: ['nginx', 'api'] } }, true],
    ['$in miss', { 'data.service': { $in: ['db'] } }, false],
    ['$nin', { 'data.service': { $nin: ['db'] } }, true],
    ['$nin hit', { 'data.service': { $nin: ['nginx'] } }, false],
    ['$eq', { 'data.node': { $eq: 'edge-1' } }, true],
    ['scalar shorthand', { 'data.node': 'edge-1' }, true],
    ['scalar shorthand miss', { 'data.node': 'edge-2' }, false],
    ['$neq', { 'data.node': { $neq: 'edge-2' } }, true],
    ['$eq null', { 'data.owner': null }, true],
    ['$eq boolean', { 'data.up': true }, true],
    ['a number never equals a string', { 'data.replicas': '3' }, false],
    ['$gt number', { 'data.cpu': { $gt: 90 } }, true],
    ['$gte/$lt range', { 'data.replicas': { $gte: 3, $lt: 4 } }, true],
    ['$lte miss', { 'data.replicas': { $lte: 2 } }, false],
    ['$gt on a string compares strings (ISO times)', { 'data.at': { $gt: '2026-12-01T00:00:00Z' } }, true],
    ['$gt of mixed types is false', { 'data.at': { $gt: 5 } }, false],
    ['$exists true', { 'data.nested.x.y': { $exists: true } }, true],
    ['$exists false on a missing path', { 'data.nope': { $exists: false } }, true],
    ['$exists true on a missing path', { 'data.nested.z': { $exists: true } }, false],
    ['array index', { 'data.tags.1': 'b' }, true],
    ['nested path', { 'data.nested.x.y': { $eq: 7 } }, true],
    ['path through a scalar is missing', { 'data.node.x': { $exists: true } }, false],
    ['missing path: $eq false', { 'data.missing': 'x' }, false],
    ['missing path: $neq true', { 'data.missing': { $neq: 'x' } }, true],
    ['missing path: $nin true', { 'data.missing': { $nin: ['x'] } }, true],
    ['missing path: $in false', { 'data.missing': { $in: ['x'] } }, false],
    ['event type', { event: 'service.started' }, true],
    ['type synonym', { type: { $in: ['service.stopped'] } }, false],
    ['implicit AND: one fails', { 'data.service': 'nginx', 'data.node': 'edge-9' }, false],
    ['$or', { $or: [{ 'data.service': 'db' }, { 'data.cpu': { $gt: 90 } }] }, true],
    ['$or none', { $or: [{ 'data.service': 'db' }, { 'data.cpu': { $lt: 10 } }] }, false],
    ['$and', { $and: [{ 'data.service': 'nginx' }, { 'data.replicas': 3 }] }, true],
    ['$and with $or inside', { $and: [{ $or: [{ 'data.node': 'x' }, { 'data.node': 'edge-1' }] }, { 'data.up': true }] }, true],
    ['empty filter', {}, true],
  ];
  it.each(cases)('%s', (_name, filter, expected) => {
    expect(validateFilter(filter)).toEqual([]);
    expect(matches(filter)).toBe(expected);
  });

  it('the issue example: service in (nginx, api) and node edge-1', () => {
    const f = compileFilter({ 'data.service': { $in: ['nginx', 'api'] }, 'data.node': { $eq: 'edge-1' } });
    expect(f({ type: 'service.started', data: { service: 'api', node: 'edge-1' } })).toBe(true);
    expect(f({ type: 'service.started', data: { service: 'api', node: 'edge-2' } })).toBe(false);
    expect(f({ type: 'service.started', data: { service: 'db', node: 'edge-1' } })).toBe(false);
    expect(f({ type: 'service.started', data: 'not an object' })).toBe(false);
  });

  it('does not read inherited properties', () => {
    expect(matches({ 'data.toString': { $exists: true } })).toBe(false);
    expect(matches({ 'data.tags.length': { $exists: true } })).toBe(false);
  });

  it('refuses to compile an invalid filter', () => {
    expect(() => compileFilter({ 'data.x': { $regex: 'a' } })).toThrow(/\$regex/);
  });
});

describe('validateFilter', () => {
  const bad: Array<[unknown, RegExp]> = [
    [[], /filter must be a JSON object/],
    ['x', /filter must be a JSON object/],
    [{ 'data.x': { $regex: 'a' } }, /filter\.data\.x\.\$regex is not a known operator/],
    [{ $not: [{}] }, /filter\.\$not is not a known operator/],
    [{ 'data.x': { $in: 'a' } }, /filter\.data\.x\.\$in takes an array/],
    [{ 'data.x': { $in: [] } }, /filter\.data\.x\.\$in must not be empty/],
    [{ 'data.x': { $in: [{ a: 1 }] } }, /filter\.data\.x\.\$in\[0\] must be a string, number, boolean or null, got an object/],
    [{ 'data.x': { $gt: true } }, /filter\.data\.x\.\$gt takes a number or a string, got a boolean/],
    [{ 'data.x': { $exists: 1 } }, /filter\.data\.x\.\$exists takes true or false/],
    [{ 'data.x': { $eq: [1] } }, /filter\.data\.x\.\$eq takes a string, number, boolean or null, got an array/],
    [{ 'data.x': [1] }, /filter\.data\.x must be an operator object/],
    [{ 'data.x': {} }, /filter\.data\.x must hold at least one operator/],
    [{ service: 'nginx' }, /filter: path "service" is not a valid path/],
    [{ 'data..x': 1 }, /path "data\.\.x" has an empty segment/],
    [{ $or: {} }, /filter\.\$or takes an array of filters/],
    [{ $or: [] }, /filter\.\$or must not be empty/],
    [{ $or: [{ 'data.x': { $foo: 1 } }] }, /filter\.\$or\[0\]\.data\.x\.\$foo is not a known operator/],
    [{ $and: ['x'] }, /filter\.\$and\[0\] must be an object of conditions/],
  ];
  it.each(bad)('%j is refused: %s', (filter, message) => {
    const problems = validateFilter(filter);
    expect(problems.join('; ')).toMatch(message);
  });

  it('accepts no filter', () => {
    expect(validateFilter(null)).toEqual([]);
    expect(validateFilter(undefined)).toEqual([]);
    expect(isEmptyFilter(null)).toBe(true);
    expect(isEmptyFilter({})).toBe(true);
    expect(isEmptyFilter({ 'data.x': 1 })).toBe(false);
  });

  it('limits the nesting depth', () => {
    let f: Record<string, unknown> = { 'data.x': 1 };
    for (let i = 0; i < FILTER_LIMITS.depth; i++) f = { $or: [f] };
    expect(validateFilter(f)).toEqual([]);
    expect(validateFilter({ $or: [f] }).join()).toMatch(/nested too deep: at most 5 levels/);
  });

  it('limits the number of conditions, list sizes, path length and size', () => {
    const many = Object.fromEntries(Array.from({ length: FILTER_LIMITS.conditions + 1 }, (_, i) => [`data.f${i}`, i]));
    expect(validateFilter(many).join()).toMatch(/101 conditions, more than the limit of 100/);
    expect(validateFilter({ 'data.x': { $in: Array.from({ length: 101 }, (_, i) => i) } }).join()).toMatch(/at most 100 values, got 101/);
    expect(validateFilter({ [`data.${'a.'.repeat(10)}b`]: 1 }).join()).toMatch(/more than 10 segments/);
    expect(validateFilter({ 'data.x': 'y'.repeat(1001) }).join()).toMatch(/longer than 1000 characters/);
    expect(validateFilter({ 'data.x': { $in: Array.from({ length: 100 }, () => 'z'.repeat(200)) } }).join()).toMatch(/at most 16384 bytes/);
  });
});
