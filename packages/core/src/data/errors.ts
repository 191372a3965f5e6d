import { BulkheadError, InternalError } from "../errors.ts";

/** Why a named item refused, with the item as it stood then (absent if it did not exist). */
export type Refusal = { readonly code: string; readonly current?: Record<string, any> };

export const CONDITION_FAILED = "ConditionalCheckFailed";

/** A transaction whose conditions did not all hold: nothing was written. */
export class TransactionRefused extends InternalError {
  override readonly name = "TransactionRefused";
  /** The first item (in the transaction's order) whose condition failed. */
  readonly item: string | undefined;

  constructor(readonly refusals: ReadonlyMap<string, Refusal>) {
    super(`transaction refused: ${[...refusals].map(([name, refusal]) => `${name} ${refusal.code}`).join(", ")}`);
    this.item = [...refusals].find(([, refusal]) => refusal.code === CONDITION_FAILED)?.[0];
  }

  /** The named item failed its condition: the item as it stood (undefined if it did not exist). */
  failed(name: string): { current?: Record<string, any> } | undefined {
    const refusal = this.refusals.get(name);
    return refusal?.code === CONDITION_FAILED ? { current: refusal.current } : undefined;
  }
}

/** Other transactions kept colliding with this one on the same items; nothing was written. */
export class TransactionContended extends BulkheadError {
  override readonly name = "TransactionContended";
  constructor(message: string) {
    super("conflict", "Another change to the same resource is in progress; try again.", {}, { message });
  }
}

/** Thrown when a command would reach outside its handle's scope. Always a bug, never user input. */
export class KeyScopeViolation extends InternalError {
  override readonly name = "KeyScopeViolation";
  constructor(readonly command: string, reason: string) {
    super(`${command} refused: ${reason}`);
  }
}

/** A cursor altered, forged, minted for another org or another listing. */
export const invalidCursor = () => new BulkheadError("invalid-cursor", "Start the listing again without a cursor.");
