import {
  CreateRoleCommand, EntityAlreadyExistsException, GetRoleCommand, IAMClient, NoSuchEntityException, PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand, type Role,
} from "@aws-sdk/client-iam";
import type { BuildRolePort, BuildRoleRequest } from "../ports.ts";

export const BUILD_ROLE_POLICY_NAME = "bulkhead-build";

/**
 * Ensures an app's build role: created on its first build, its trust and policy re-applied on
 * every build so they converge on the current documents. A role of that name that is not ours
 * (other path, other org/app tags) is refused rather than adopted.
 */
export function iamBuildRoles(client = new IAMClient({})): BuildRolePort {
  const read = async (name: string): Promise<Role | undefined> => {
    try {
      return (await client.send(new GetRoleCommand({ RoleName: name }))).Role;
    } catch (error) {
      if (error instanceof NoSuchEntityException) return undefined;
      throw error;
    }
  };
  const assertOurs = (role: Role, request: BuildRoleRequest) => {
    const tag = (key: string) => role.Tags?.find((t) => t.Key === key)?.Value;
    if (role.Path !== request.path || tag("bulkhead:org") !== request.names.org || tag("bulkhead:app") !== request.names.app) {
      throw new Error(`role ${role.RoleName} exists but is not this app's build role`);
    }
  };

  return {
    async ensure(request) {
      const name = request.names.buildRole;
      const trust = JSON.stringify(request.trustPolicy);
      let role = await read(name);
      let created = false;
      if (!role) {
        try {
          role = (await client.send(new CreateRoleCommand({
            RoleName: name,
            Path: request.path,
            AssumeRolePolicyDocument: trust,
            Description: `Builds of app ${request.names.app} of org ${request.names.org}`,
            MaxSessionDuration: 3600,
            PermissionsBoundary: request.permissionsBoundary,
            Tags: [{ Key: "bulkhead:org", Value: request.names.org }, { Key: "bulkhead:app", Value: request.names.app }],
          }))).Role;
          created = true;
        } catch (error) {
          if (!(error instanceof EntityAlreadyExistsException)) throw error;
          role = await read(name); // a concurrent build of the same app created it
        }
      }
      if (!role?.Arn) throw new Error(`role ${name} could not be read`);
      if (!created) {
        assertOurs(role, request);
        await client.send(new UpdateAssumeRolePolicyCommand({ RoleName: name, PolicyDocument: trust }));
      }
      await client.send(new PutRolePolicyCommand({
        RoleName: name,
        PolicyName: BUILD_ROLE_POLICY_NAME,
        PolicyDocument: JSON.stringify(request.policy),
      }));
      return { arn: role.Arn, created };
    },
  };
}
