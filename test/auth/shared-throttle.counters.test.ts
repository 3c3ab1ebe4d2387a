import { createHash } from "node:crypto";
import { SharedAuthThrottle, type SharedReservation } from "../../src/auth/shared-throttle";
import { createTestDatabase, type TestDatabase, testDatabaseKind } from "../support/database";

const WINDOW_MS = 60_000;
const START = 1_000_000;

/**
 * The shared password-attempt counters, driven in-process on the test database (SQLite here,
 * MariaDB in the mariadb project) with an injected clock. `shared-throttle.test.ts` checks the
 * same counters end to end across two server processes.
 */
describe("SharedAuthThrottle on the database", () => {
  let db: TestDatabase;
  let subjects = 0;
  const subject = () => `ip:test-${++subjects}`;
  const hashOf = (value: string) => createHash("sha256").update(value).digest("hex");
  const counterOf = async (value: string): Promise<{ attempts: number; windowEndsAt: number } | undefined> => {
    const rows: Array<{ attempts: unknown; window_ends_at: unknown }> = await db.dataSource.query("SELECT attempts, window_ends_at FROM auth_attempts WHERE subject_hash = ?", [hashOf(value)]);
    return rows[0] && { attempts: Number(rows[0].attempts), windowEndsAt: Number(rows[0].window_ends_at) };
  };
  /** A row as another instance left it: counted, maybe ended, not swept yet. */
  const storeCounter = (value: string, attempts: number, windowEndsAt: number) =>
    db.dataSource.query("INSERT INTO auth_attempts (subject_hash, attempts, window_ends_at) VALUES (?, ?, ?)", [hashOf(value), attempts, windowEndsAt]);

  let now = START;
  const throttle = (limit: number) => new SharedAuthThrottle(db.dataSource, { limit, windowMs: WINDOW_MS, now: () => now });
  const allowed = (reservation: SharedReservation) => {
    if (reservation.blocked) throw new Error("expected the attempt to be let through");
    return reservation;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.destroy();
  });
  beforeEach(async () => {
    now = START;
    await db.dataSource.query("DELETE FROM auth_attempts");
  });

  test("each attempt counts once against every subject, in one window from its first attempt", async () => {
    const [ip, account] = [subject(), subject()];
    const shared = throttle(5);
    allowed(await shared.reserve([ip, account]));
    now += 1_000;
    allowed(await shared.reserve([ip, account, ip]));
    expect(await counterOf(ip)).toEqual({ attempts: 2, windowEndsAt: START + WINDOW_MS });
    expect(await counterOf(account)).toEqual({ attempts: 2, windowEndsAt: START + WINDOW_MS });
  });

  test("over the limit: refused, and the refused attempt is taken back from every subject it named", async () => {
    const [ip, account, fresh] = [subject(), subject(), subject()];
    const shared = throttle(2);
    allowed(await shared.reserve([ip, account]));
    allowed(await shared.reserve([ip, account]));
    expect(await shared.reserve([ip, account])).toMatchObject({ blocked: true });
    expect(await shared.reserve([account, fresh])).toMatchObject({ blocked: true });
    expect(await counterOf(ip)).toMatchObject({ attempts: 2 });
    expect(await counterOf(account)).toMatchObject({ attempts: 2 });
    // A subject under the limit keeps no trace of an attempt another subject refused.
    expect(await counterOf(fresh)).toMatchObject({ attempts: 0 });
    allowed(await shared.reserve([fresh]));
  });

  test("Retry-After runs to the latest end among the subjects over the limit", async () => {
    const [early, late] = [subject(), subject()];
    const shared = throttle(1);
    allowed(await shared.reserve([early]));
    now = START + 5_000;
    allowed(await shared.reserve([late]));
    now = START + 6_000;
    expect(await shared.reserve([early, late])).toEqual({ blocked: true, retryAfterSeconds: 59, windowEndsAt: START + 5_000 + WINDOW_MS });
    // A subject under the limit does not stretch the wait, however late its window ends.
    expect(await shared.reserve([early, subject()])).toEqual({ blocked: true, retryAfterSeconds: 54, windowEndsAt: START + WINDOW_MS });
    now = START + 5_000 + WINDOW_MS - 1;
    expect(await shared.reserve([late])).toEqual({ blocked: true, retryAfterSeconds: 1, windowEndsAt: START + 5_000 + WINDOW_MS });
  });

  test("a window that ended but was not swept yet starts again at 1, with a new end", async () => {
    const shared = throttle(2);
    allowed(await shared.reserve([subject()])); // The first attempt sweeps; the next sweep is a window away.
    const ended = subject();
    await storeCounter(ended, 2, START + 10);
    now = START + 10;
    allowed(await shared.reserve([ended]));
    expect(await counterOf(ended)).toEqual({ attempts: 1, windowEndsAt: START + 10 + WINDOW_MS });
  });

  test("ended windows are swept once per window length, not on every attempt", async () => {
    const shared = throttle(5);
    allowed(await shared.reserve([subject()]));
    const ended = subject();
    await storeCounter(ended, 1, START + 10);
    now = START + 20;
    allowed(await shared.reserve([subject()]));
    expect(await counterOf(ended)).toBeDefined();
    now = START + WINDOW_MS;
    allowed(await shared.reserve([subject()]));
    expect(await counterOf(ended)).toBeUndefined();
  });

  test("release gives the place back once, and only to the window the attempt counted in", async () => {
    const [ip, account] = [subject(), subject()];
    const shared = throttle(5);
    allowed(await shared.reserve([ip, account]));
    const reservation = allowed(await shared.reserve([ip, account]));
    await reservation.release();
    await reservation.release();
    expect(await counterOf(ip)).toMatchObject({ attempts: 1 });
    expect(await counterOf(account)).toMatchObject({ attempts: 1 });

    // The account's window ends and a new one starts: the old attempt owes the new window nothing.
    const late = allowed(await shared.reserve([ip, account]));
    await db.dataSource.query("UPDATE auth_attempts SET attempts = 1, window_ends_at = ? WHERE subject_hash = ?", [START + 2 * WINDOW_MS, hashOf(account)]);
    await late.release();
    expect(await counterOf(ip)).toMatchObject({ attempts: 1 });
    expect(await counterOf(account)).toEqual({ attempts: 1, windowEndsAt: START + 2 * WINDOW_MS });
  });

  test("release never takes a counter below zero", async () => {
    const ip = subject();
    const reservation = allowed(await throttle(5).reserve([ip]));
    await db.dataSource.query("UPDATE auth_attempts SET attempts = 0 WHERE subject_hash = ?", [hashOf(ip)]);
    await reservation.release();
    expect(await counterOf(ip)).toMatchObject({ attempts: 0 });
  });

  /**
   * A deadlock cannot be made to order between two connections, so the database raises one from a
   * trigger instead, for the attempts whose window would end at POISONED_END: the clock decides
   * which tries fail. On MariaDB the driver reports it exactly as a deadlock InnoDB detected
   * (ER_LOCK_DEADLOCK); on SQLite, which never deadlocks, it carries MySQL's message only.
   */
  describe("a transaction picked as a deadlock victim", () => {
    const POISONED_NOW = 2_000_000;
    const POISONED_END = POISONED_NOW + WINDOW_MS;
    const DEADLOCK_MESSAGE = "Deadlock found when trying to get lock; try restarting transaction";
    const ER_LOCK_DEADLOCK = 1213;
    const ER_LOCK_WAIT_TIMEOUT = 1205;

    /** Each call of the clock is one try of reserve(); these fail, then the clock moves on. */
    const clockFailing = (failingTries: number) => {
      const clock = { tries: 0, now: () => (++clock.tries <= failingTries ? POISONED_NOW : START) };
      return clock;
    };
    const injectFailure = async (message: string, mysqlErrno = 1644) => {
      if (db.kind === "sqlite") {
        await db.dataSource.query(`CREATE TRIGGER inject_failure BEFORE INSERT ON auth_attempts WHEN NEW.window_ends_at = ${POISONED_END} BEGIN SELECT RAISE(ABORT, '${message}'); END`);
      } else {
        await db.dataSource.query(
          `CREATE TRIGGER inject_failure BEFORE INSERT ON auth_attempts FOR EACH ROW BEGIN IF NEW.window_ends_at = ${POISONED_END} THEN SIGNAL SQLSTATE '40001' SET MESSAGE_TEXT = '${message}', MYSQL_ERRNO = ${mysqlErrno}; END IF; END`,
        );
      }
    };
    afterEach(async () => {
      await db.dataSource.query("DROP TRIGGER IF EXISTS inject_failure");
    });

    test("is retried: after two deadlocks the third try counts the attempt, once", async () => {
      await injectFailure(DEADLOCK_MESSAGE, ER_LOCK_DEADLOCK);
      const clock = clockFailing(2);
      const ip = subject();
      allowed(await new SharedAuthThrottle(db.dataSource, { limit: 5, windowMs: WINDOW_MS, now: clock.now }).reserve([ip]));
      expect(clock.tries).toBe(3);
      expect(await counterOf(ip)).toEqual({ attempts: 1, windowEndsAt: START + WINDOW_MS });
    });

    test("three deadlocks in a row reach the caller, and nothing is counted", async () => {
      await injectFailure(DEADLOCK_MESSAGE, ER_LOCK_DEADLOCK);
      const clock = clockFailing(3);
      const ip = subject();
      await expect(new SharedAuthThrottle(db.dataSource, { limit: 5, windowMs: WINDOW_MS, now: clock.now }).reserve([ip])).rejects.toThrow(/Deadlock found/);
      expect(clock.tries).toBe(3);
      expect(await counterOf(ip)).toBeUndefined();
    });

    test("any other database error reaches the caller at once, untried again", async () => {
      await injectFailure("the disk is full");
      const clock = clockFailing(1);
      await expect(new SharedAuthThrottle(db.dataSource, { limit: 5, windowMs: WINDOW_MS, now: clock.now }).reserve([subject()])).rejects.toThrow(/the disk is full/);
      expect(clock.tries).toBe(1);
    });

    // MySQL names the error by its code whatever the message says: each code is retried on its own.
    // SQLite has no such codes.
    (testDatabaseKind() === "mariadb" ? test.each : test.skip.each)([
      ["ER_LOCK_DEADLOCK", ER_LOCK_DEADLOCK],
      ["ER_LOCK_WAIT_TIMEOUT", ER_LOCK_WAIT_TIMEOUT],
    ])("on MySQL, %s is retried by its code alone", async (_name, errno) => {
      await injectFailure("the transaction was chosen", errno);
      const clock = clockFailing(1);
      allowed(await new SharedAuthThrottle(db.dataSource, { limit: 5, windowMs: WINDOW_MS, now: clock.now }).reserve([subject()]));
      expect(clock.tries).toBe(2);
    });
  });
});
