import { InternalError } from "../errors.ts";

/** The table refused a batch: none of it was written. */
export class BatchRefused extends InternalError {
  override readonly name = "BatchRefused";
  constructor(
    /** Ids of the batch's records that are no longer waiting (another sequencer placed them). */
    readonly alreadySequenced: ReadonlySet<string>,
    /** The batch's first seq is held by a legacy chain entry that is not in the tree yet. */
    readonly heldByLegacyEntry: boolean,
  ) {
    super("the audit batch was refused");
  }
}
