import { arn } from "../packages/core/src/iam/arn.ts";
import type { Stage } from "./stage.ts";
import type { Storage } from "./storage.ts";

/**
 * What handlers read through `Resource` (packages/core/src/config.ts), by link name. None of
 * these links carries a permission: grants come from packages/core/src/iam.
 */
export function links(stage: Stage, storage: Storage) {
  return {
    Table: storage.table,
    Platform: new sst.Linkable("Platform", { properties: { baseDomain: stage.apiDomain } }),
    Auth: new sst.Linkable("Auth", { properties: stage.auth }),
    // Set per stage with `npx sst secret set CursorKey <value>`; it signs pagination cursors.
    CursorKey: new sst.Secret("CursorKey"),
    // The ARN is known from the name, so functions do not wait on the role (which trusts them).
    TenantData: new sst.Linkable("TenantData", {
      properties: { roleArn: arn.role(stage.location, stage.platform.tenantDataRole) },
    }),
  };
}

export type Links = ReturnType<typeof links>;
export type LinkName = keyof Links;
