import { arn } from "../packages/core/src/iam/arn.ts";
import { hostedDeployRoleName } from "../packages/core/src/iam/deploy.ts";
import { BUILD_ROLE_PATH } from "../packages/core/src/iam/workflows.ts";
import { SOURCE_UPLOAD_DEFAULTS } from "../packages/core/src/sources/config.ts";
import type { Stage } from "./stage.ts";
import type { Storage } from "./storage.ts";

/** Signs audit tree heads (packages/core/src/audit/kms-signer.ts, used by the sequencer): ECDSA P-256, sign/verify only. */
export function auditCheckpointKey() {
  return new aws.kms.Key("AuditCheckpointSigningKey", {
    description: "Bulkhead audit checkpoint signing key",
    customerMasterKeySpec: "ECC_NIST_P256",
    keyUsage: "SIGN_VERIFY",
    deletionWindowInDays: 30,
  });
}

export type CheckpointKey = ReturnType<typeof auditCheckpointKey>;

/**
 * What handlers read through `Resource` (packages/core/src/config.ts), by link name. None of
 * these links carries a permission: grants come from packages/core/src/iam.
 */
export function links(stage: Stage, storage: Storage, checkpointKey: CheckpointKey) {
  return {
    Table: storage.table,
    Platform: new sst.Linkable("Platform", { properties: { baseDomain: stage.apiDomain } }),
    Auth: new sst.Linkable("Auth", { properties: stage.auth }),
    // The console's sign-in at the identity provider (packages/console/src/settings.ts).
    Console: new sst.Linkable("Console", { properties: stage.console }),
    // Set per stage with `npx sst secret set CursorKey <value>`; it signs pagination cursors.
    CursorKey: new sst.Secret("CursorKey"),
    // Per-app KEKs are Secrets Manager secrets made at runtime (sst.Secret is not Secrets Manager);
    // the link only names the adapter and the recovery window of a destroyed store.
    KeyStore: new sst.Linkable("KeyStore", { properties: { kind: "secrets-manager", recoveryWindowDays: 7 } }),
    AuditCheckpointKey: new sst.Linkable("AuditCheckpointKey", { properties: { kind: "kms", keyId: checkpointKey.arn } }),
    // The principal customers' deploy roles trust (targets.create puts it in the trust policy).
    Deployer: new sst.Linkable("Deployer", {
      properties: { roleArn: arn.role(stage.location, stage.platform.deployerRole) },
    }),
    // What the deployment routes and tasks read (packages/core/src/deployments/config.ts). Every
    // value is known from the stage's names, so no function waits on the resources it names.
    Deployments: new sst.Linkable("Deployments", {
      properties: {
        region: stage.location.region,
        accountId: stage.location.account,
        stateMachineArn: arn.stateMachine(stage.location, stage.platform.deploymentStateMachine),
        buildProject: stage.platform.buildProject,
        artifactBucket: storage.artifacts.name,
        artifactReaderRoleArn: arn.role(stage.location, stage.platform.artifactReaderRole),
        buildRolePath: BUILD_ROLE_PATH,
        buildRolePermissionsBoundary: arn.managedPolicy(stage.location, stage.platform.buildRoleBoundary),
        hostedTargetRoleArn: arn.role(stage.location, hostedDeployRoleName(stage.platform.stage)),
        hostedTargetRegion: stage.location.region,
      },
    }),
    // Source uploads (packages/core/src/sources/config.ts): the bucket, the form's size cap and lifetime.
    Sources: new sst.Linkable("Sources", {
      properties: { bucket: storage.artifacts.name, region: stage.location.region, ...SOURCE_UPLOAD_DEFAULTS, maxBytes: stage.sourceMaxBytes },
    }),
    // The hosted target's ExternalId, ≥ 32 characters: `npx sst secret set HostedTargetExternalId …`.
    HostedTargetExternalId: new sst.Secret("HostedTargetExternalId"),
    // The ARN is known from the name, so functions do not wait on the role (which trusts them).
    TenantData: new sst.Linkable("TenantData", {
      properties: { roleArn: arn.role(stage.location, stage.platform.tenantDataRole) },
    }),
  };
}

export type Links = ReturnType<typeof links>;
export type LinkName = keyof Links;
