import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { DataSource, EntityManager } from 'typeorm';
import { AppError } from '../common/app-error';
import { BUILTIN_SCHEMAS, JsonSchema } from './builtin-schemas';
import { describeCatalogue, TEST_EVENT_TYPE } from './event-catalogue';
import { EventTypeRecord } from './event-type.entity';

/** How long an instance trusts its copy of the catalogue before reading event_types again (another instance's change shows within this). */
export const CATALOGUE_MAX_AGE_MS = 1000;
/** Most failing paths a 422 lists. */
const MAX_REPORTED_ERRORS = 50;
const TYPE_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** One type of the catalogue as every instance sees it: built-in (possibly overridden) or added by an admin. */
export interface CatalogueEntry {
  type: string;
  category: string;
  description: string;
  schema: JsonSchema;
  example: Record<string, unknown>;
  /** emit and POST /api/events refuse data that does not match the schema (422). */
  enforced: boolean;
  /** Still accepted; flagged in the catalogue and on emit responses. */
  deprecated: boolean;
  /** Part of the code's catalogue (not added by an admin). */
  builtin: boolean;
  /** Schema version: raised on every schema change. */
  version: number;
}

/** A snapshot of the whole catalogue. */
export class Catalogue {
  private readonly byType: ReadonlyMap<string, CatalogueEntry>;

  constructor(readonly entries: readonly CatalogueEntry[]) {
    this.byType = new Map(entries.map((e) => [e.type, e]));
  }

  get(type: string): CatalogueEntry | undefined {
    return this.byType.get(type);
  }

  /** Types one may subscribe to by name (the operational ones included), and categories by `<category>.*` (test deliveries excluded). */
  subscribable(): { types: string[]; categories: string[] } {
    const entries = this.entries.filter((e) => e.type !== TEST_EVENT_TYPE);
    return { types: entries.map((e) => e.type), categories: [...new Set(entries.map((e) => e.category))] };
  }

  /** Every type name, comma separated, for error messages. */
  names(): string {
    return this.entries.map((e) => e.type).join(', ');
  }
}

export interface NewEventType {
  type: string;
  description: string;
  schema: JsonSchema;
  example: Record<string, unknown>;
  enforced?: boolean;
}

export interface EventTypePatch {
  description?: string;
  schema?: JsonSchema;
  example?: Record<string, unknown>;
  enforced?: boolean;
  deprecated?: boolean;
}

/** One failing place of a payload: its JSON pointer (`/domain`, `` for the whole object) and what is wrong. */
export interface SchemaProblem {
  path: string;
  message: string;
  keyword: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeProblem(e: ErrorObject): SchemaProblem {
  let path = e.instancePath;
  // a missing required property: point at the property itself
  if (e.keyword === 'required') path = `${path}/${String((e.params as { missingProperty: string }).missingProperty)}`;
  if (e.keyword === 'additionalProperties') path = `${path}/${String((e.params as { additionalProperty: string }).additionalProperty)}`;
  return { path: path || '/', message: e.message ?? e.keyword, keyword: e.keyword };
}

/**
 * The event catalogue at run time: the code's built-in types merged with the
 * rows of `event_types`, cached for CATALOGUE_MAX_AGE_MS per instance (a
 * change made here is seen here at once, on other instances within that
 * time). Validates payloads with Ajv, each schema compiled once per version.
 */
@Injectable()
export class EventTypesService {
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();
  private current: { catalogue: Catalogue; at: number } | null = null;
  private loading: Promise<Catalogue> | null = null;

  constructor(@InjectDataSource() private readonly db: DataSource) {
    this.ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false, allowUnionTypes: true });
    addFormats(this.ajv);
  }

  /** The catalogue, read again when the copy is older than `maxAgeMs`. */
  async catalogue(maxAgeMs = CATALOGUE_MAX_AGE_MS): Promise<Catalogue> {
    if (this.current && Date.now() - this.current.at < maxAgeMs) return this.current.catalogue;
    if (!this.loading) {
      const started = Date.now();
      this.loading = this.load()
        .then((catalogue) => {
          this.current = { catalogue, at: started };
          return catalogue;
        })
        .finally(() => (this.loading = null));
    }
    return this.loading;
  }

  /** The entry of `type`; a type not in the cached copy is looked up afresh once (another instance may just have added it). */
  async lookup(type: string): Promise<CatalogueEntry | undefined> {
    const entry = (await this.catalogue()).get(type);
    if (entry) return entry;
    return (await this.catalogue(0)).get(type);
  }

  /** The problems of `data` against the entry's schema (empty when it matches). */
  check(entry: CatalogueEntry, data: unknown): SchemaProblem[] {
    const validate = this.validatorFor(entry);
    if (validate(data)) return [];
    return (validate.errors ?? []).slice(0, MAX_REPORTED_ERRORS).map(describeProblem);
  }

  /** Throws the 422 for an enforced type whose data does not match. */
  enforce(entry: CatalogueEntry, data: unknown): void {
    if (!entry.enforced) return;
    const problems = this.check(entry, data);
    if (problems.length === 0) return;
    const list = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    throw new AppError('SCHEMA_VALIDATION_FAILED', `The data does not match the schema of ${entry.type} (version ${entry.version}): ${list}`, problems);
  }

  async add(input: NewEventType): Promise<CatalogueEntry> {
    const type = input.type;
    if (type.length > 100 || !TYPE_NAME.test(type)) {
      throw new AppError('VALIDATION_FAILED', 'type must look like "<category>.<name>": lowercase letters, digits and underscores, at most 100 characters');
    }
    const category = type.slice(0, type.indexOf('.'));
    if (category === 'webhook') throw new AppError('VALIDATION_FAILED', 'The webhook category is reserved for test deliveries');
    if (category.length > 50) throw new AppError('VALIDATION_FAILED', 'The category (the part before the first dot) must be at most 50 characters');
    if ((await this.catalogue(0)).get(type)) throw new AppError('EVENT_TYPE_EXISTS', `The event type ${type} already exists`);
    this.checkSchemaAndExample(type, input.schema, input.example);
    const rows = await this.db.query<unknown[]>(
      `INSERT INTO event_types (type, builtin, category, description, schema, example, enforced, deprecated, version)
       VALUES ($1, false, $2, $3, $4::jsonb, $5::jsonb, $6, false, 1)
       ON CONFLICT (type) DO NOTHING RETURNING type`,
      [type, category, input.description, JSON.stringify(input.schema), JSON.stringify(input.example), input.enforced ?? true],
    );
    if (rows.length === 0) throw new AppError('EVENT_TYPE_EXISTS', `The event type ${type} already exists`);
    return this.changed(type);
  }

  async update(type: string, patch: EventTypePatch): Promise<CatalogueEntry> {
    if (type === TEST_EVENT_TYPE) throw new AppError('VALIDATION_FAILED', `${TEST_EVENT_TYPE} is reserved for POST /api/webhooks/{id}/test`);
    const known = (await this.catalogue(0)).get(type);
    if (!known) throw new AppError('NOT_FOUND', `No event type ${type.slice(0, 100)}`);
    await this.db.transaction(async (m) => {
      const row = await this.lockRow(m, type);
      const entry = row ? this.merge(row) : known;
      const schemaChanged = patch.schema !== undefined;
      const schema = patch.schema ?? entry.schema;
      const example = patch.example ?? entry.example;
      if (schemaChanged || patch.example !== undefined) this.checkSchemaAndExample(type, schema, example);
      const version = schemaChanged ? entry.version + 1 : entry.version;
      const keepSchema = schemaChanged || !entry.builtin || (row?.schema ?? null) !== null;
      const keepExample = schemaChanged || patch.example !== undefined || !entry.builtin || (row?.example ?? null) !== null;
      await m.query(
        `INSERT INTO event_types (type, builtin, category, description, schema, example, enforced, deprecated, version, updated_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, now())
         ON CONFLICT (type) DO UPDATE SET description = EXCLUDED.description, schema = EXCLUDED.schema, example = EXCLUDED.example,
           enforced = EXCLUDED.enforced, deprecated = EXCLUDED.deprecated, version = EXCLUDED.version, updated_at = now()`,
        [
          type,
          entry.builtin,
          entry.category,
          // a built-in override keeps null (the built-in value) for what it does not replace
          patch.description ?? (entry.builtin ? (row?.description ?? null) : entry.description),
          keepSchema ? JSON.stringify(schema) : null,
          keepExample ? JSON.stringify(example) : null,
          patch.enforced ?? entry.enforced,
          patch.deprecated ?? entry.deprecated,
          version,
        ],
      );
    });
    return this.changed(type);
  }

  private async lockRow(m: EntityManager, type: string): Promise<EventTypeRecord | null> {
    const rows = await m.query<Array<Record<string, unknown>>>(`SELECT * FROM event_types WHERE type = $1 FOR UPDATE`, [type]);
    return rows[0] ? this.toRecord(rows[0]) : null;
  }

  private async changed(type: string): Promise<CatalogueEntry> {
    this.current = null;
    return (await this.catalogue(0)).get(type)!;
  }

  private checkSchemaAndExample(type: string, schema: unknown, example: unknown): void {
    if (!isObject(schema)) throw new AppError('VALIDATION_FAILED', 'schema must be a JSON Schema object');
    if (!isObject(example)) throw new AppError('VALIDATION_FAILED', 'example must be a JSON object');
    if ('$id' in schema) throw new AppError('VALIDATION_FAILED', 'schema must not have an $id (schemas are identified by their type and version)');
    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(schema);
    } catch (err) {
      throw new AppError('VALIDATION_FAILED', `schema is not a valid JSON Schema: ${(err as Error).message}`);
    }
    if (!validate(example)) {
      const problems = (validate.errors ?? []).map(describeProblem);
      throw new AppError(
        'VALIDATION_FAILED',
        `example does not match the schema of ${type}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
        problems,
      );
    }
  }

  private validatorFor(entry: CatalogueEntry): ValidateFunction {
    const key = `${entry.type}@${entry.version}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(entry.schema);
      this.validators.set(key, validate);
    }
    return validate;
  }

  private async load(): Promise<Catalogue> {
    const rows = (await this.db.query<Array<Record<string, unknown>>>(`SELECT * FROM event_types ORDER BY created_at, type`)).map((r) => this.toRecord(r));
    const overrides = new Map(rows.filter((r) => r.builtin).map((r) => [r.type, r]));
    const builtins: CatalogueEntry[] = describeCatalogue().map((b) => {
      const base: CatalogueEntry = {
        type: b.type,
        category: b.category,
        description: b.description,
        schema: BUILTIN_SCHEMAS[b.type].schema,
        example: BUILTIN_SCHEMAS[b.type].example,
        enforced: false,
        deprecated: false,
        builtin: true,
        version: 1,
      };
      const o = overrides.get(b.type);
      return o ? this.merge(o, base) : base;
    });
    const custom = rows.filter((r) => !r.builtin).map((r) => this.merge(r));
    return new Catalogue([...builtins, ...custom]);
  }

  /** A row as a catalogue entry; a built-in override over its built-in `base`. */
  private merge(row: EventTypeRecord, base?: CatalogueEntry): CatalogueEntry {
    if (row.builtin && !base) {
      const b = describeCatalogue().find((e) => e.type === row.type)!;
      base = {
        ...b,
        schema: BUILTIN_SCHEMAS[b.type].schema,
        example: BUILTIN_SCHEMAS[b.type].example,
        enforced: false,
        deprecated: false,
        builtin: true,
        version: 1,
      };
    }
    return {
      type: row.type,
      category: row.category,
      description: row.description ?? base?.description ?? '',
      schema: row.schema ?? base?.schema ?? {},
      example: row.example ?? base?.example ?? {},
      enforced: row.enforced,
      deprecated: row.deprecated,
      builtin: row.builtin,
      version: row.version,
    };
  }

  private toRecord(r: Record<string, unknown>): EventTypeRecord {
    return Object.assign(new EventTypeRecord(), {
      type: r.type as string,
      builtin: r.builtin as boolean,
      category: r.category as string,
      description: r.description as string | null,
      schema: r.schema as Record<string, unknown> | null,
      example: r.example as Record<string, unknown> | null,
      enforced: r.enforced as boolean,
      deprecated: r.deprecated as boolean,
      version: r.version as number,
      createdAt: r.created_at as Date,
      updatedAt: r.updated_at as Date,
    });
  }
}
