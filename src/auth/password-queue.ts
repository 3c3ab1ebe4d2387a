/**
 * The bounded line in front of bcrypt. A password attempt takes a ticket before anything else
 * (lookup, throttle, comparison) and gives it back when done; its comparison waits for one of
 * `concurrency` turns (no more than the thread pool runs at once). Tickets are limited twice:
 * `concurrency + maxQueued` in all (beyond, refused at once: 503), and `maxPerClient` per client
 * IP, so one address cannot fill the line. A client's further attempts wait outside the line for
 * one of its own tickets (a script's concurrent logins are served in turn), up to
 * MAX_WAITING_PER_CLIENT of them; beyond that they are refused at once (429). A flood therefore
 * costs microseconds per request, and a valid login from elsewhere waits behind at most
 * `maxQueued` comparisons.
 */
export interface PasswordQueueOptions {
  /** Comparisons running at once (bcrypt runs on libuv's thread pool, 4 threads by default). */
  concurrency: number;
  /** Attempts allowed to wait for a turn beyond those running. */
  maxQueued: number;
  /** Attempts one client IP may have in the line (waiting or running) at once. */
  maxPerClient: number;
}

export type Admission = { admitted: true; ticket: PasswordTicket } | { admitted: false; reason: "busy" | "client-busy"; retryAfterSeconds: number };

export interface PasswordTicket {
  /** Resolves when the comparison may run. */
  turn(): Promise<void>;
  /** Gives the ticket (and its turn, if it had one) back; safe to call more than once. */
  leave(): void;
}

const RETRY_AFTER_SECONDS = 1;
/** Attempts of one client waiting for one of its tickets; and of all clients together. */
export const MAX_WAITING_PER_CLIENT = 64;
export const MAX_WAITING = 4096;

export class PasswordQueue {
  private tickets = 0;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly perClient = new Map<string, number>();
  private readonly clientWaiting = new Map<string, Array<() => void>>();
  private waitingForClient = 0;

  constructor(private readonly options: PasswordQueueOptions) {}

  /** Synchronous unless the client already holds its share of tickets and must wait for one. */
  enter(client: string): Admission | Promise<Admission> {
    const held = this.perClient.get(client) ?? 0;
    if (held >= this.options.maxPerClient) {
      const waiting = this.clientWaiting.get(client) ?? [];
      if (waiting.length >= MAX_WAITING_PER_CLIENT || this.waitingForClient >= MAX_WAITING) {
        return { admitted: false, reason: "client-busy", retryAfterSeconds: RETRY_AFTER_SECONDS };
      }
      this.waitingForClient += 1;
      this.clientWaiting.set(client, waiting);
      return new Promise<void>((resolve) => waiting.push(resolve)).then(() => {
        this.waitingForClient -= 1;
        return this.enter(client);
      });
    }
    if (this.tickets >= this.options.concurrency + this.options.maxQueued) return { admitted: false, reason: "busy", retryAfterSeconds: RETRY_AFTER_SECONDS };
    this.tickets += 1;
    this.perClient.set(client, held + 1);
    let hasTurn = false;
    let left = false;
    return {
      admitted: true,
      ticket: {
        turn: () => {
          if (left || hasTurn) return Promise.resolve();
          if (this.running < this.options.concurrency) {
            this.running += 1;
            hasTurn = true;
            return Promise.resolve();
          }
          return new Promise<void>((resolve) =>
            this.waiting.push(() => {
              // Left while waiting: the turn goes on to the next in line.
              if (left) return this.passTurn();
              hasTurn = true;
              resolve();
            }),
          );
        },
        leave: () => {
          if (left) return;
          left = true;
          this.tickets -= 1;
          const remaining = (this.perClient.get(client) ?? 1) - 1;
          if (remaining > 0) this.perClient.set(client, remaining);
          else this.perClient.delete(client);
          const waiting = this.clientWaiting.get(client);
          if (waiting) {
            waiting.shift()!();
            if (waiting.length === 0) this.clientWaiting.delete(client);
          }
          if (hasTurn) this.passTurn();
        },
      },
    };
  }

  /** A finished turn goes straight to the next waiter, so `running` stays as it is. */
  private passTurn(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running -= 1;
  }

  /** Attempts in the line now (waiting or running), for metrics and tests. */
  get size(): number {
    return this.tickets;
  }
}
