import { createHmac, timingSafeEqual } from "node:crypto";
import { invalidCursor } from "./errors.ts";

/**
 * Opaque pagination cursors: the last evaluated key and the org it belongs to, HMAC-signed.
 * A cursor altered, forged, or minted for another org is refused as a 400.
 */
export function encodeCursor(secret: string, org: string, lastKey: Record<string, unknown>): string {
  const body = Buffer.from(JSON.stringify({ o: org, k: lastKey })).toString("base64url");
  return `${body}.${sign(secret, body)}`;
}

/**
 * With `listing`, the key must also lie in that listing (its partition, its sort-key prefix): a
 * valid cursor of another listing in the same org is refused too, rather than sent to DynamoDB.
 */
export function decodeCursor(
  secret: string,
  org: string,
  cursor: string,
  /** The listing the cursor must belong to: a key from any other listing is refused, not sent on. */
  listing: { partition: string; sortPrefix: string },
): Record<string, unknown> {
  const [body, signature, extra] = cursor.split(".");
  if (!body || !signature || extra !== undefined) throw invalidCursor();
  const expected = Buffer.from(sign(secret, body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidCursor();
  const parsed = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as { o?: unknown; k?: unknown };
  if (parsed.o !== org || typeof parsed.k !== "object" || parsed.k === null) throw invalidCursor();
  const key = parsed.k as Record<string, unknown>;
  if ((key.PK !== listing.partition || typeof key.SK !== "string" || !key.SK.startsWith(listing.sortPrefix))) {
    throw invalidCursor();
  }
  return key;
}

const sign = (secret: string, body: string): string =>
  createHmac("sha256", secret).update(body).digest("base64url");
