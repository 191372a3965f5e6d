import { BulkheadError } from "../errors.ts";

/**
 * A limit of the org's that a request would exceed: a count (apps, credentials per app) or a
 * size (a credential value's bytes), which http/ answers differently.
 */
export class QuotaExceeded extends BulkheadError {
  override readonly name = "QuotaExceeded";
  constructor(limit: string, max: number, what: string, readonly measure: "count" | "size" = "count") {
    super("quota-exceeded", `${what} is limited to ${max} for this organization (limit ${limit}).`, { limit, max });
  }
}

