import { randomBytes } from "node:crypto";
import * as z from "zod/mini";
import { lazySchema } from "./lazy-schema.ts";

/** Labels that can never name an org: they are, or may become, platform hostnames. */
export const RESERVED_ORG_SLUGS: ReadonlySet<string> = new Set([
  "api", "app", "apps", "admin", "auth", "console", "docs", "internal", "login", "mail",
  "platform", "static", "status", "support", "www", "registry", "root", "system",
]);

/** A DNS label: lower case, 2–32 characters, no leading or trailing hyphen. */
const ORG_SLUG = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])$/;
/** Generated ids: 26 lower-case base32 characters (130 random bits). */
const GENERATED_ID = /^[a-z2-7]{26}$/;
/** Names chosen by users (credential names, subjects): never `#`, bounded length. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:@|-]{0,127}$/;

export const isOrgSlug = (value: string): boolean =>
  ORG_SLUG.test(value) && !RESERVED_ORG_SLUGS.has(value);
export const isGeneratedId = (value: string): boolean => GENERATED_ID.test(value);
export const isName = (value: string): boolean => NAME.test(value);

export const orgSlugSchema = lazySchema(() => z.string().check(
  z.regex(ORG_SLUG, "lower-case DNS label, 2–32 characters"),
  z.refine((s) => !RESERVED_ORG_SLUGS.has(s), "reserved name"),
));
export const generatedIdSchema = lazySchema(() => z.string().check(z.regex(GENERATED_ID, "26 base32 characters")));
export const nameSchema = lazySchema(() => z.string().check(z.regex(NAME, "1–128 of A-Z a-z 0-9 _ . : @ | -, starting alphanumeric")));

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/** A random id of 130 bits, safe inside keys (no `#`) and URLs. */
export function newId(): string {
  const bytes = randomBytes(26);
  let id = "";
  for (const byte of bytes) id += BASE32[byte & 31];
  return id;
}
