import { existsSync, readFileSync, statSync } from "node:fs";
import type { ArtifactReaderPort } from "@bulkhead/core/deployments/ports";
import type { LocalObjectStore } from "./object-store.ts";
import { isAllowed } from "./policy-evaluation.ts";
import { StandInAccessDenied, type StsStandIn } from "./sts.ts";

class StandInNoSuchKey extends Error {
  override readonly name = "NoSuchKey";
  readonly $metadata = { httpStatusCode: 404 };
}

/**
 * Offline stand-in for S3 GetObject on the platform's artifact bucket. It answers only to
 * credentials the STS stand-in issued for the platform's artifact reader role, unexpired, whose
 * session policy allows reading this object and whose session tags name the org, app and
 * deployment the key belongs to (what the role's own policy demands in the cloud). An object over
 * the limit is not read.
 */
export function artifactsStandIn(options: { store: LocalObjectStore; sts: StsStandIn; readerRoleArn: string; accountId: string }): ArtifactReaderPort {
  return {
    async read({ bucket, key, accountId, credentials, maxBytes }) {
      const session = options.sts.session(credentials);
      if (!session || session.roleArn !== options.readerRoleArn) throw new StandInAccessDenied("The AWS Access Key Id you provided does not exist in our records.");
      if (accountId !== options.accountId) throw new StandInAccessDenied("Access Denied (bucket owner)");
      const resource = `arn:aws:s3:::${bucket}/${key}`;
      const tagged = `${session.tags.org}/${session.tags.app}/${session.tags.deployment}/`;
      if (!isAllowed(session.policy, "s3:GetObject", resource) || !key.startsWith(tagged)) {
        throw new StandInAccessDenied(`not authorized to perform: s3:GetObject on resource: ${resource}`);
      }
      const file = options.store.path(bucket, key);
      if (!existsSync(file)) throw new StandInNoSuchKey("The specified key does not exist.");
      const size = statSync(file).size;
      return size > maxBytes ? { size } : { size, bytes: readFileSync(file) };
    },
  };
}
