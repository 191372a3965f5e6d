import { LambdaClient, UpdateAliasCommand, UpdateFunctionCodeCommand } from "@aws-sdk/client-lambda";
import { taskError } from "../../workflows/errors.ts";
import type { TargetDeployerPort, TemporaryCredentials } from "../ports.ts";

/** Lambda reports CodeSha256 as base64 of the package's SHA-256; CodeBuild reports hex. */
const hexToBase64 = (hex: string): string => Buffer.from(hex, "hex").toString("base64");

/**
 * Deploys to the app's function in the target account: the artifact's bytes uploaded directly
 * (`ZipFile`, so the target reads nothing of the platform's), published as a version, then the
 * `live` alias moved to it. Only the assumed, session-scoped credentials are used. The published
 * code's SHA-256 must be the artifact's, so what runs is what was built.
 */
export function lambdaAliasTargets(clientFor = (region: string, credentials: TemporaryCredentials) =>
  new LambdaClient({ region, credentials })): TargetDeployerPort {
  return {
    async apply({ target, names, artifact, code, credentials }) {
      const client = clientFor(target.region, credentials);
      try {
        const updated = await client.send(new UpdateFunctionCodeCommand({
          FunctionName: names.releaseFunction,
          ZipFile: code,
          Publish: true,
        }));
        if (updated.CodeSha256 !== hexToBase64(artifact.sha256)) {
          throw taskError("releaseMismatch", "the target's code does not match the built artifact's SHA-256");
        }
        await client.send(new UpdateAliasCommand({
          FunctionName: names.releaseFunction,
          Name: names.releaseAlias,
          FunctionVersion: updated.Version,
        }));
        return { releaseId: `${names.releaseFunction}:${updated.Version}` };
      } catch (error) {
        // An update still settling is a passing state, not a refusal.
        if ((error as Error).name === "ResourceConflictException") throw taskError("transient", "the target function is being updated; retrying");
        throw error;
      } finally {
        client.destroy();
      }
    },
  };
}
