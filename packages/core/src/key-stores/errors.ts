import { InternalError } from "../errors.ts";

export class KekNotFound extends InternalError {
  override readonly name = "KekNotFound";
}

/** A create found the app's store already there, made by another request: never adopted. */
export class KeyStoreConflict extends InternalError {
  override readonly name = "KeyStoreConflict";
  constructor() {
    super("a credential store already exists for this app");
  }
}
