import bcrypt from "bcrypt";
import { randomBytes } from "node:crypto";
import { DEFAULT_BCRYPT_COST } from "../config";


/**
 * Every password hash the service makes, and every comparison, at one configured cost.
 *
 * A login for an unknown email is compared against a dummy hash of that same cost, made once
 * (prepare(), called when a server starts), so the response time does not tell which emails have accounts; a
 * stored hash of a lower cost (made before the cost was raised) is reported as outdated, and the
 * login that proves the password replaces it.
 */
export class PasswordHasher {
  private dummyHash: Promise<string> | null = null;

  constructor(readonly cost: number = DEFAULT_BCRYPT_COST) {}

  /** Makes the dummy hash now, in the background, rather than on the first unknown email. */
  prepare(): void {
    this.dummyHash ??= bcrypt.hash(randomBytes(24).toString("base64"), this.cost);
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.cost);
  }

  /** `storedHash` null: no such account; the comparison still costs what a real one does. */
  async verify(password: string, storedHash: string | null): Promise<boolean> {
    if (storedHash === null) this.prepare();
    const matches = await bcrypt.compare(password, storedHash ?? (await this.dummyHash!));
    return storedHash !== null && matches;
  }

  isOutdated(storedHash: string): boolean {
    return bcrypt.getRounds(storedHash) < this.cost;
  }
}
