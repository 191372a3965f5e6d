import type { RoleDocuments } from "../packages/core/src/iam/document.ts";

/** Role chaining caps sessions at an hour anyway; nothing the platform assumes needs longer. */
const MAX_SESSION_SECONDS = 3600;

/** A role of the platform's own (not a function's, whose role SST creates), from its generated documents. */
export function roleArgs(documents: $util.Input<RoleDocuments>): aws.iam.RoleArgs {
  const role = $output(documents);
  return {
    name: role.apply((r) => r.name),
    description: role.apply((r) => r.description),
    assumeRolePolicy: role.apply((r) => JSON.stringify(r.trust)),
    inlinePolicies: role.apply((r) => [{ name: "bulkhead", policy: JSON.stringify(r.policy) }]),
    maxSessionDuration: MAX_SESSION_SECONDS,
  };
}
