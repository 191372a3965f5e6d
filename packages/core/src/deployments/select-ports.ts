import type { DeploymentPorts } from "./ports.ts";

/**
 * The one place that picks the deployment ports' adapters. Cloud adapters (./cloud/*) are the
 * defaults; the offline runtime installs stand-ins with useDeploymentPorts, and tests may swap
 * single ports. Adapters load lazily, so a handler pays only for the SDK clients it actually uses.
 */

type Factories = { [K in keyof DeploymentPorts]: () => Promise<DeploymentPorts[K]> };

const defaults: Factories = {
  executions: async () => (await import("./cloud/sfn.ts")).sfnExecutions(),
  buildRoles: async () => (await import("./cloud/iam.ts")).iamBuildRoles(),
  buildEnvironments: async () => (await import("./cloud/codebuild.ts")).codeBuildEnvironments(),
  buildLogs: async () => (await import("./cloud/logs.ts")).cloudWatchBuildLogs(),
  roles: async () => (await import("./cloud/sts.ts")).stsRoleAssumer(),
  artifacts: async () => (await import("./cloud/s3-artifacts.ts")).s3Artifacts(),
  targets: async () => (await import("./cloud/lambda-target.ts")).lambdaAliasTargets(),
  grants: async () => (await import("./grants.ts")).deployGrants(),
};

const installed: Partial<DeploymentPorts> = {};
const built = new Map<keyof DeploymentPorts, Promise<unknown>>();

export async function port<K extends keyof DeploymentPorts>(name: K): Promise<DeploymentPorts[K]> {
  const override = installed[name];
  if (override) return override;
  let adapter = built.get(name);
  if (!adapter) {
    adapter = defaults[name]();
    built.set(name, adapter);
  }
  return adapter as Promise<DeploymentPorts[K]>;
}

/**
 * The adapter installed for `name`, if any, without the cloud defaults: for code outside the
 * workflows (a route) that reaches one port and must not bundle every default adapter's module.
 */
export function installedPort<K extends keyof DeploymentPorts>(name: K): DeploymentPorts[K] | undefined {
  return installed[name];
}

/** Installs adapters in place of the cloud defaults (the offline runtime, tests). */
export function useDeploymentPorts(ports: Partial<DeploymentPorts>): void {
  Object.assign(installed, ports);
}

/** Forgets installed adapters and cached defaults. */
export function resetDeploymentPorts(): void {
  for (const name of Object.keys(installed) as (keyof DeploymentPorts)[]) delete installed[name];
  built.clear();
}
