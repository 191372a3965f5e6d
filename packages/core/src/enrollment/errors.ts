import { BulkheadError } from "../errors.ts";

/** One answer for every bad enrollment token (unknown, used, expired, another org's): no oracle. */
export const invalidEnrollmentToken = () => new BulkheadError("invalid-enrollment-token", "The enrollment token is not valid.");
