import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";

/** The source routes' schemas. A ref is one path segment (see sourceRefSchema): no `/`, no `..`, at most 128 characters. */
const timestamp = lazySchema(() => z.iso.datetime());

/** A source version: a commit, tag or upload name. One path segment: no `/`, cannot start with `.`. */
export const sourceRefSchema = lazySchema(() => z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "1–128 of A-Z a-z 0-9 . _ -, starting alphanumeric")));
/** SHA-256 as `sha256sum` prints it: 64 lower-case hex digits. */
export const sha256HexSchema = lazySchema(() => z.string().check(z.regex(/^[0-9a-f]{64}$/, "64 lower-case hex digits (SHA-256)")));

export const createSourceBody = lazySchema(() => z.strictObject({
  ref: sourceRefSchema(),
  /** Of the ZIP to be uploaded: S3 refuses any other bytes under this ref. */
  sha256: sha256HexSchema(),
  /** When given, a source over the cap is refused here, before any upload. */
  size: z.optional(z.int().check(z.minimum(1))),
}));

export const sourceSchema = lazySchema(() => z.object({
  ref: z.string(),
  sha256: z.string(),
  status: z.enum(["pending", "uploaded"]),
  size: z.optional(z.number()),
  createdBy: z.string(),
  createdAt: timestamp(),
  uploadedAt: z.optional(timestamp()),
}));

export const sourceUploadSchema = lazySchema(() => z.object({
  source: sourceSchema(),
  /** An S3 POST (browser-based upload) form: POST `fields` then the file, as multipart/form-data, to `url`. */
  upload: z.object({
    url: z.string(),
    fields: z.record(z.string(), z.string()),
    /** The form's file field must come last. */
    fileField: z.literal("file"),
    maxBytes: z.number(),
    expiresAt: timestamp(),
  }),
}));

export const sourceListSchema = lazySchema(() => z.object({ items: z.array(sourceSchema()), cursor: z.optional(z.string()) }));
