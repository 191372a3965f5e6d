import type { DynamoDBStreamEvent } from "aws-lambda";
import { checkpointSigner } from "@bulkhead/core/audit/select-signer";
import { sequenceStreamBatch, type StreamRecord } from "@bulkhead/core/audit/stream";
import { logger } from "@bulkhead/core/log";

/**
 * The audit sequencer, fed by the table's stream through an event source mapping filtered to new
 * audit records (infra/audit.ts). A thrown error makes Lambda split the batch and retry it;
 * what was sequenced before the error is skipped on the retry.
 */
export const handler = async (event: DynamoDBStreamEvent): Promise<void> => {
  const result = await sequenceStreamBatch(event.Records as StreamRecord[], { signer: await checkpointSigner() });
  logger.info("audit records sequenced", result);
};
