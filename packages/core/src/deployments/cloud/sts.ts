import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { RoleAssumerPort } from "../ports.ts";

export function stsRoleAssumer(client = new STSClient({})): RoleAssumerPort {
  return {
    async assumeRole(request) {
      const { Credentials } = await client.send(new AssumeRoleCommand({
        RoleArn: request.roleArn,
        ExternalId: request.externalId,
        RoleSessionName: request.sessionName,
        DurationSeconds: request.durationSeconds,
        Tags: request.tags.map(({ key, value }) => ({ Key: key, Value: value })),
        Policy: request.policy,
      }));
      if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey || !Credentials.SessionToken || !Credentials.Expiration) {
        throw new Error("AssumeRole returned no credentials");
      }
      return {
        accessKeyId: Credentials.AccessKeyId,
        secretAccessKey: Credentials.SecretAccessKey,
        sessionToken: Credentials.SessionToken,
        expiration: Credentials.Expiration,
      };
    },
  };
}
