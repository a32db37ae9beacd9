import type { DataSource, EntityManager } from 'typeorm';

/**
 * Daily range partitions of a table partitioned by `created_at`: one
 * partition per UTC day named `<table>_pYYYYMMDD`, plus `<table>_default`
 * for anything outside them (it should stay empty: partitions are created
 * days ahead). The migrations create the parent tables; the owning module
 * keeps the days ahead created and drops the days past its retention.
 */

const DAY_MS = 86_400_000;
const NAME = /_p(\d{4})(\d{2})(\d{2})$/;

/** Midnight UTC of the day `date` falls in. */
export function utcDay(date: Date): Date {
  return new Date(Math.floor(date.getTime() / DAY_MS) * DAY_MS);
}

export function partitionName(table: string, day: Date): string {
  return `${table}_p${day.toISOString().slice(0, 10).replaceAll('-', '')}`;
}

export interface DailyPartition {
  name: string;
  /** Its first instant (inclusive); it ends a day later (exclusive). */
  day: Date;
}

type Db = Pick<DataSource | EntityManager, 'query'>;

/**
 * Creating or dropping a partition locks the parent table for a moment; if a
 * long query holds it, give up after a few seconds (the next run tries again)
 * rather than queue every insert behind the waiting DDL.
 */
async function ddl(ds: DataSource, sql: string): Promise<void> {
  await ds.transaction(async (m) => {
    await m.query(`SET LOCAL lock_timeout = '5s'`);
    await m.query(sql);
  });
}

/** The daily partitions of `table`, oldest first (the default partition is not listed). */
export async function listDailyPartitions(db: Db, table: string): Promise<DailyPartition[]> {
  const rows = await db.query<Array<{ name: string }>>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass`,
    [table],
  );
  return rows
    .map((r) => {
      const m = NAME.exec(r.name);
      return m ? { name: r.name, day: new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) } : null;
    })
    .filter((p): p is DailyPartition => p !== null)
    .sort((a, b) => a.day.getTime() - b.day.getTime());
}

/** Creates the partitions of the `days` days from `from`'s day on that do not exist yet; returns their names. */
export async function createDailyPartitions(ds: DataSource, table: string, from: Date, days: number): Promise<string[]> {
  const existing = new Set((await listDailyPartitions(ds, table)).map((p) => p.name));
  const created: string[] = [];
  const first = utcDay(from).getTime();
  for (let i = 0; i < days; i++) {
    const day = new Date(first + i * DAY_MS);
    const name = partitionName(table, day);
    if (existing.has(name)) continue;
    await ddl(
      ds,
      `CREATE TABLE IF NOT EXISTS "${name}" PARTITION OF "${table}" FOR VALUES FROM ('${day.toISOString()}') TO ('${new Date(day.getTime() + DAY_MS).toISOString()}')`,
    );
    created.push(name);
  }
  return created;
}

/** Drops the daily partitions whose whole day lies before `cutoff`, except the days in `keep`; returns their names. */
export async function dropDailyPartitionsBefore(ds: DataSource, table: string, cutoff: Date, keep: Date[] = []): Promise<string[]> {
  const kept = new Set(keep.map((d) => utcDay(d).getTime()));
  const dropped: string[] = [];
  for (const p of await listDailyPartitions(ds, table)) {
    if (p.day.getTime() + DAY_MS > cutoff.getTime()) break;
    if (kept.has(p.day.getTime())) continue;
    await ddl(ds, `DROP TABLE IF EXISTS "${p.name}"`);
    dropped.push(p.name);
  }
  return dropped;
}
