import { type Admission, MAX_WAITING, MAX_WAITING_PER_CLIENT, PasswordQueue, type PasswordTicket } from "../../src/auth/password-queue";

/** An admission decided at once (not waiting for the client's own tickets). */
const now = (admission: Admission | Promise<Admission>): Admission => {
  if (admission instanceof Promise) throw new Error("the admission waits");
  return admission;
};
const ticketOf = (admission: Admission | Promise<Admission>): PasswordTicket => {
  const decided = now(admission);
  if (!decided.admitted) throw new Error(`refused: ${decided.reason}`);
  return decided.ticket;
};
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe("PasswordQueue", () => {
  test("at most `concurrency` turns at once; the rest wait in arrival order", async () => {
    const queue = new PasswordQueue({ concurrency: 2, maxQueued: 10, maxPerClient: 10 });
    const tickets = Array.from({ length: 5 }, (_, i) => ticketOf(queue.enter(`ip${i}`)));
    const started: number[] = [];
    tickets.forEach((ticket, i) => void ticket.turn().then(() => started.push(i)));
    await settled();
    expect(started).toEqual([0, 1]);
    tickets[1].leave();
    await settled();
    expect(started).toEqual([0, 1, 2]);
    tickets[0].leave();
    tickets[2].leave();
    await settled();
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  test("beyond concurrency + maxQueued tickets: refused at once as busy, until one leaves", () => {
    const queue = new PasswordQueue({ concurrency: 2, maxQueued: 3, maxPerClient: 10 });
    const tickets = Array.from({ length: 5 }, (_, i) => ticketOf(queue.enter(`ip${i}`)));
    expect(queue.enter("another")).toEqual({ admitted: false, reason: "busy", retryAfterSeconds: 1 });
    tickets[4].leave();
    expect(now(queue.enter("another")).admitted).toBe(true);
  });

  test("one client holds at most maxPerClient tickets: its next attempts wait for its own, others are not held up", async () => {
    const queue = new PasswordQueue({ concurrency: 1, maxQueued: 10, maxPerClient: 2 });
    const first = ticketOf(queue.enter("script"));
    ticketOf(queue.enter("script"));
    const third = queue.enter("script");
    expect(third).toBeInstanceOf(Promise);
    expect(now(queue.enter("someone else")).admitted).toBe(true);
    let admitted: Admission | null = null;
    void (third as Promise<Admission>).then((admission) => (admitted = admission));
    await settled();
    expect(admitted).toBeNull();
    first.leave();
    await settled();
    expect(admitted).toMatchObject({ admitted: true });
  });

  test("past MAX_WAITING_PER_CLIENT waiting attempts, a client's next one is refused at once (429)", () => {
    const queue = new PasswordQueue({ concurrency: 1, maxQueued: 10, maxPerClient: 1 });
    ticketOf(queue.enter("flood"));
    for (let i = 0; i < MAX_WAITING_PER_CLIENT; i++) expect(queue.enter("flood")).toBeInstanceOf(Promise);
    expect(queue.enter("flood")).toEqual({ admitted: false, reason: "client-busy", retryAfterSeconds: 1 });
    expect(now(queue.enter("someone else")).admitted).toBe(true);
  });

  test("all clients together: at most MAX_WAITING attempts wait; a place that frees up is taken again", async () => {
    const clients = MAX_WAITING / MAX_WAITING_PER_CLIENT + 1;
    const queue = new PasswordQueue({ concurrency: 1, maxQueued: clients, maxPerClient: 1 });
    const held = Array.from({ length: clients }, (_, c) => ticketOf(queue.enter(`client ${c}`)));
    const waiters: Array<Admission | Promise<Admission>> = [];
    for (let c = 0; c < clients - 1; c++) for (let i = 0; i < MAX_WAITING_PER_CLIENT; i++) waiters.push(queue.enter(`client ${c}`));
    expect(waiters.filter((waiter) => !(waiter instanceof Promise))).toEqual([]);
    const last = `client ${clients - 1}`;
    const refused = { admitted: false, reason: "client-busy", retryAfterSeconds: 1 };
    expect(queue.enter(last)).toEqual(refused);
    held[0].leave(); // one of client 0's waiters takes the ticket: one place in the wait is free
    await settled();
    expect(queue.enter(last)).toBeInstanceOf(Promise);
    expect(queue.enter(last)).toEqual(refused);
  });

  test("a ticket that leaves while waiting hands its turn on, and leave() twice changes nothing", async () => {
    const queue = new PasswordQueue({ concurrency: 1, maxQueued: 10, maxPerClient: 10 });
    const [running, quitter, next] = ["a", "b", "c"].map((client) => ticketOf(queue.enter(client)));
    const started: string[] = [];
    void running.turn().then(() => started.push("a"));
    void quitter.turn().then(() => started.push("b"));
    void next.turn().then(() => started.push("c"));
    await settled();
    quitter.leave();
    quitter.leave();
    running.leave();
    await settled();
    expect(started).toEqual(["a", "c"]);
    next.leave();
    expect(queue.size).toBe(0);
    const again = ticketOf(queue.enter("d"));
    let turned = false;
    void again.turn().then(() => (turned = true));
    await settled();
    expect(turned).toBe(true);
  });
});
