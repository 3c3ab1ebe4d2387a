import { PassThrough, Writable } from "node:stream";
import { formatTable, ProgressBar, promptHidden, promptLine, readFirstLine } from "../../src/cli/terminal";

/** A stand-in for a terminal: what the user types goes in, raw mode is recorded. */
function fakeTty() {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, rawModes: [] as boolean[], setRawMode(mode: boolean) { this.rawModes.push(mode); } });
  let written = "";
  const stderr = Object.assign(new Writable({ write: (chunk, _encoding, callback) => ((written += String(chunk)), callback()) }), { isTTY: true, columns: 80 });
  return { stdin, stderr, written: () => written };
}

describe("CLI terminal helpers", () => {
  test("hidden prompt: returns what was typed (backspace honoured), echoes none of it, restores the terminal", async () => {
    const tty = fakeTty();
    const answer = promptHidden("Password: ", tty.stdin, tty.stderr);
    tty.stdin.write("secret-paX");
    tty.stdin.write("\u007fss\r");
    await expect(answer).resolves.toBe("secret-pass");
    expect(tty.written()).toBe("Password: \n");
    expect(tty.stdin.rawModes).toEqual([true, false]);
  });

  test("hidden prompt: Ctrl-C aborts with null", async () => {
    const tty = fakeTty();
    const answer = promptHidden("Password: ", tty.stdin, tty.stderr);
    tty.stdin.write("abc\u0003");
    await expect(answer).resolves.toBeNull();
  });

  test("confirmation prompt reads one line; end of input is null", async () => {
    const tty = fakeTty();
    const answer = promptLine("Sure? ", tty.stdin, tty.stderr);
    tty.stdin.write("yes\r\nmore");
    await expect(answer).resolves.toBe("yes");
    const closed = fakeTty();
    const none = promptLine("Sure? ", closed.stdin, closed.stderr);
    closed.stdin.end();
    await expect(none).resolves.toBeNull();
  });

  test("piped stdin: the first line only, without its line ending", async () => {
    const stdin = new PassThrough();
    const line = readFirstLine(stdin);
    stdin.end("pa ss word\r\nsecond line\n");
    await expect(line).resolves.toBe("pa ss word");
  });

  test("progress bar draws on a terminal only", () => {
    const tty = fakeTty();
    const bar = new ProgressBar(tty.stderr, "Purging");
    bar.update(1000, 1000);
    bar.finish();
    expect(tty.written()).toMatch(/^\rPurging \[#+\] 1000\/1000 100%\n$/);
    let piped = "";
    const quiet = new ProgressBar(new Writable({ write: (chunk, _encoding, callback) => ((piped += String(chunk)), callback()) }), "Purging");
    quiet.update(5, 10);
    quiet.finish();
    expect(piped).toBe("");
  });

  test("table: aligned columns, line breaks in cells flattened", () => {
    expect(formatTable(["ID", "DESCRIPTION"], [["7", "two\nlines"], ["12", "x"]])).toBe("ID  DESCRIPTION\n--  -----------\n7   two lines\n12  x\n");
  });
});
