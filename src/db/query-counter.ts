import type { DataSource, Logger as TypeOrmLogger, QueryRunner } from "typeorm";
import { SQLITE_WRITE_LOCK } from "./transactions";

const READ = /^\s*(SELECT|WITH)\b/i;
const WRITE = /^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|TRUNCATE)\b/i;

/** Counts the SQL statements one DataSource sends (ours and TypeORM's), and how many of them write. */
export class QueryCounter {
  statements = 0;
  reads = 0;
  writes = 0;

  record(sql: string): void {
    this.statements++;
    // The BEGIN IMMEDIATE of an SQLite write transaction (src/db/transactions.ts): it changes nothing.
    if (sql === SQLITE_WRITE_LOCK) return;
    if (WRITE.test(sql)) this.writes++;
    else if (READ.test(sql)) this.reads++;
  }

  snapshot(): { statements: number; reads: number; writes: number } {
    return { statements: this.statements, reads: this.reads, writes: this.writes };
  }
}

/**
 * Counts every statement of this DataSource from now on, by wrapping its logger: TypeORM's query
 * runners report each statement there, and so does our prepared key lookup. Only this instance is
 * touched; the previous logger keeps receiving everything.
 */
export function countQueries(dataSource: DataSource, counter: QueryCounter = new QueryCounter()): QueryCounter {
  const inner: TypeOrmLogger = dataSource.logger;
  const counting: TypeOrmLogger = Object.create(inner);
  counting.logQuery = (query: string, parameters?: unknown[], queryRunner?: QueryRunner) => {
    counter.record(query);
    return inner.logQuery(query, parameters, queryRunner);
  };
  dataSource.logger = counting;
  return counter;
}
