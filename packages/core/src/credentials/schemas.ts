import * as z from "zod/mini";
import { nameSchema, generatedIdSchema } from "../ids.ts";
import { lazySchema } from "../lazy-schema.ts";
import { text, timestamp } from "../schemas.ts";

/**
 * A credential value: non-empty, well-formed Unicode. Its size is the org's limit
 * (`credentialValueBytes`, at most 32 KiB of UTF-8), checked by the service with a 413.
 */
const credentialValue = lazySchema(() => z.string().check(
  z.minLength(1),
  z.refine((value) => value.isWellFormed(), "must be well-formed Unicode"),
));

export const putCredentialBody = lazySchema(() => z.strictObject({ value: credentialValue(), description: z.optional(text(1000)) }));
export const credentialParams = lazySchema(() => z.strictObject({ appId: generatedIdSchema(), name: nameSchema() }));
export const userCredentialParams = lazySchema(() => z.strictObject({ appId: generatedIdSchema(), sub: nameSchema(), name: nameSchema() }));
export const runtimeCredentialParams = lazySchema(() => z.strictObject({ name: nameSchema() }));
export const runtimeUserCredentialParams = lazySchema(() => z.strictObject({ sub: nameSchema(), name: nameSchema() }));

/** What humans and operators may see of a credential: that it exists, never its value. */
const credentialFields = () => ({
  name: z.string(),
  scope: z.enum(["system", "user"]),
  sub: z.optional(z.string()),
  description: z.optional(z.string()),
  version: z.number().check(z.int(), z.minimum(1)),
  createdAt: timestamp(),
  updatedAt: timestamp(),
});
export const credentialSchema = lazySchema(() => z.object(credentialFields()));
export const credentialListSchema = lazySchema(() => z.object({ items: z.array(credentialSchema()), cursor: z.optional(z.string()) }));
export const runtimeCredentialSchema = lazySchema(() => z.object({ ...credentialFields(), value: z.string() }));
