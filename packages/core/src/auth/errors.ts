import { InternalError } from "../errors.ts";

/** The verifier refused a token; http/ answers 401 and logs the message. */
export class TokenRejected extends InternalError {
  override readonly name = "TokenRejected";
}
