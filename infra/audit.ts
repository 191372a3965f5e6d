import { AUDIT_RECORD_FILTER, AUDIT_STREAM_SETTINGS } from "../packages/core/src/audit/stream.ts";
import { arn } from "../packages/core/src/iam/arn.ts";
import { AUDIT_SEQUENCER_JOB, auditSequencerRole } from "../packages/core/src/iam/jobs.ts";
import { FUNCTION_DEFAULTS, ownRole } from "./functions.ts";
import type { CheckpointKey, LinkName, Links } from "./links.ts";
import type { Stage } from "./stage.ts";
import type { Storage } from "./storage.ts";

/**
 * What the sequencer's code reads through `Resource`: the table's name (each org's tenant
 * handle), the tenant data role it assumes per org, and the signing key.
 * test/infra-contract.test.ts checks this against the function's bundle, both ways.
 */
const AUDIT_SEQUENCER_LINKS: readonly LinkName[] = ["Table", "TenantData", "AuditCheckpointKey"];

export const AUDIT_SEQUENCER_HANDLER = "functions/src/jobs/audit-sequencer.handler";

/**
 * The audit sequencer: the table's stream, filtered to new audit records, into one function.
 * One concurrent batch per shard (DynamoDB's default parallelization factor of 1) and an org's
 * records in one shard in commit order make it one writer per org; its conditional writes keep
 * the log whole even if that ever failed to hold.
 */
export function auditSequencer(stage: Stage, links: Links, storage: Storage, checkpointKey: CheckpointKey) {
  const { location, platform } = stage;
  const role = checkpointKey.arn.apply((signingKeyArn) => auditSequencerRole({ location, platform, signingKeyArn }));
  const subscriber = storage.table.subscribe("AuditSequencer", {
    ...FUNCTION_DEFAULTS,
    name: platform.jobFunction(AUDIT_SEQUENCER_JOB),
    description: "Sequences committed audit records into each org's Merkle log and signs its heads",
    handler: AUDIT_SEQUENCER_HANDLER,
    timeout: "5 minutes",
    link: AUDIT_SEQUENCER_LINKS.map((name) => links[name]),
    transform: { role: ownRole(platform.jobRole(AUDIT_SEQUENCER_JOB), role) },
  }, {
    filters: [AUDIT_RECORD_FILTER],
    transform: {
      eventSourceMapping: (args: aws.lambda.EventSourceMappingArgs) => {
        args.batchSize = AUDIT_STREAM_SETTINGS.batchSize;
        args.maximumBatchingWindowInSeconds = AUDIT_STREAM_SETTINGS.maximumBatchingWindowInSeconds;
        args.bisectBatchOnFunctionError = AUDIT_STREAM_SETTINGS.bisectBatchOnFunctionError;
        args.maximumRetryAttempts = AUDIT_STREAM_SETTINGS.maximumRetryAttempts;
        args.startingPosition = AUDIT_STREAM_SETTINGS.startingPosition;
        args.parallelizationFactor = 1;
      },
    },
  });
  return { subscriber, roleArn: arn.role(location, platform.jobRole(AUDIT_SEQUENCER_JOB)) };
}

export type AuditSequencer = ReturnType<typeof auditSequencer>;
