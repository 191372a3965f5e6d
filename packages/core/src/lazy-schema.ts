import type { ZodMiniType } from "zod/mini";

/** A schema's getter: it builds the schema on its first call and returns that one instance after. */
export type SchemaFactory<T extends ZodMiniType = ZodMiniType> = () => T;

/**
 * Defines a schema that is built on first use, not at import. A function serves one route but
 * imports its whole area's schemas, and a zod schema is built by top-level calls that esbuild
 * cannot drop: eagerly, every function would build them all at cold start, responses included,
 * which only the OpenAPI generator reads. A schema refers to another by calling its factory
 * inside its own `build`, so it builds only what it reaches.
 */
export function lazySchema<T extends ZodMiniType>(build: () => T): SchemaFactory<T> {
  let schema: T | undefined;
  return () => (schema ??= build());
}
