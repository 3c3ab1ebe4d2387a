import { type Admission, PasswordQueue, type PasswordTicket } from "../../src/auth/password-queue";

const ticketOf = (admission: Admission): PasswordTicket => {
  if (!admission.admitted) throw new Error(`refused: ${admission.reason}`);
  return admission.ticket;
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
    expect(queue.enter("another").admitted).toBe(true);
  });

  test("one client holds at most maxPerClient tickets, so it cannot fill the line for others", () => {
    const queue = new PasswordQueue({ concurrency: 1, maxQueued: 10, maxPerClient: 2 });
    const first = ticketOf(queue.enter("attacker"));
    ticketOf(queue.enter("attacker"));
    expect(queue.enter("attacker")).toEqual({ admitted: false, reason: "client-busy", retryAfterSeconds: 1 });
    expect(queue.enter("someone else").admitted).toBe(true);
    first.leave();
    expect(queue.enter("attacker").admitted).toBe(true);
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
