import { existsSync } from "node:fs";
import { join } from "node:path";
import aslValidator from "asl-validator";
import { describe, expect, it } from "vitest";
import { isTask, type StateMachineDefinition, type TaskState } from "../packages/core/src/workflows/asl.ts";
import { codeBuildStartBuildSync, deploymentStateMachine, STATE_TASKS, STATES } from "../packages/core/src/workflows/deployment-machine.ts";
import { stateMachines } from "../packages/core/src/workflows/machines.ts";
import { PRODUCTION_WORKFLOW_OPTIONS, workflowOptions } from "../packages/core/src/workflows/options.ts";
import { placeholderTaskResources, taskFile, tasks } from "../packages/core/src/workflows/tasks.ts";
import { printableDefinitions } from "../packages/local/src/cli/workflows-print.ts";
import { REPO_ROOT } from "../packages/local/src/runtime.ts";
import { validateDefinition } from "../packages/local/src/workflows/validate.ts";

/** The state machine definitions themselves: valid ASL, failure handling on every path, real values for the cloud. */
const resources = placeholderTaskResources();
const fastOptions = workflowOptions({
  retry: { intervalSeconds: 1, maxAttempts: 2, backoffRate: 1.5, maxDelaySeconds: 5 },
  timeouts: { stepSeconds: 5, prepareBuildSeconds: 10, applySeconds: 20, executionSeconds: 1200 },
  build: { timeoutMinutes: 5, queuedTimeoutMinutes: 5, rolePropagationSeconds: 0 },
});
const variants: [string, StateMachineDefinition][] = [
  ["production", deploymentStateMachine(PRODUCTION_WORKFLOW_OPTIONS, resources)],
  ["shortened", deploymentStateMachine(fastOptions, resources)],
];
const taskStates = (d: StateMachineDefinition) => Object.entries(d.States).filter((e): e is [string, TaskState] => isTask(e[1]));

describe.each(variants)("the %s deployment definition", (_name, definition) => {
  it("is valid under asl-validator (given a clone: it mutates its input)", () => {
    const copy = structuredClone(definition);
    const result = aslValidator(copy);
    expect(result.errorsText("\n")).toBe("");
    expect(result.isValid).toBe(true);
    expect(() => validateDefinition("Deployment", definition)).not.toThrow();
  });

  it("uses JSONPath only, and never the Task Credentials field", () => {
    expect(definition.QueryLanguage).toBe("JSONPath");
    const text = JSON.stringify(definition);
    expect(text).not.toContain("{%");
    expect(text).not.toMatch(/"(Arguments|Output|Assign|Credentials|QueryLanguage": "JSONata)"/);
  });

  it("gives every Task a timeout, retries with backoff and a Catch of everything", () => {
    const states = taskStates(definition);
    expect(states.length).toBe(Object.keys(STATE_TASKS).length + 1);
    for (const [name, state] of states) {
      expect(state.TimeoutSeconds, name).toBeGreaterThan(0);
      expect(state.Retry.length, name).toBeGreaterThan(0);
      for (const retrier of state.Retry) {
        expect(retrier.BackoffRate, name).toBeGreaterThan(1);
        expect(retrier.ErrorEquals, name).not.toContain("States.ALL");
      }
      expect(state.Catch.map((c) => c.ErrorEquals), name).toContainEqual(["States.ALL"]);
    }
    // Choice, Wait, Succeed and Fail states take no TimeoutSeconds: the execution's own limit covers them.
    const longestTask = Math.max(...states.map(([, s]) => s.TimeoutSeconds));
    expect(definition.TimeoutSeconds).toBeGreaterThan(longestTask);
  });

  it("ends every failure in the terminal DeploymentFailed state, through RecordFailure", () => {
    const reaches = (from: string, goal: string, seen = new Set<string>()): boolean => {
      if (from === goal) return true;
      if (seen.has(from)) return false;
      seen.add(from);
      const state = definition.States[from]!;
      const next = [
        "Next" in state ? state.Next : undefined,
        ...("Catch" in state ? state.Catch.map((c) => c.Next) : []),
        ...("Choices" in state ? [...state.Choices.map((c) => c.Next), state.Default] : []),
      ].filter((n): n is string => typeof n === "string");
      return next.some((n) => reaches(n, goal, seen));
    };
    for (const [name, state] of taskStates(definition)) {
      for (const catcher of state.Catch) {
        expect(reaches(catcher.Next, STATES.failed), `${name} → ${catcher.Next}`).toBe(true);
        if (name !== STATES.recordFailure) expect(reaches(catcher.Next, STATES.recordFailure), name).toBe(true);
      }
    }
    expect(definition.States[STATES.failed]).toMatchObject({ Type: "Fail", Error: "Bulkhead.DeploymentFailed" });
  });

  it("always destroys the build environment after RunBuild, whatever its outcome", () => {
    const run = definition.States[STATES.runBuild] as TaskState;
    expect(run.Resource).toBe(codeBuildStartBuildSync(resources));
    expect(run.Resource).toBe("arn:aws:states:::codebuild:startBuild.sync");
    expect(run.Next).toBe(STATES.destroyBuildEnvironment);
    expect(run.Catch.map((c) => c.Next)).toEqual([STATES.destroyBuildEnvironment]);
  });

  it("passes nothing secret into CodeBuild: plaintext variables only, from the prepared spec", () => {
    const run = definition.States[STATES.runBuild] as TaskState;
    expect(run.Parameters).toMatchObject({ "ServiceRoleOverride.$": "$.build.serviceRoleArn", "EnvironmentVariablesOverride.$": "$.build.environment" });
    expect(JSON.stringify(run.Parameters)).not.toMatch(/SECRETS_MANAGER|PARAMETER_STORE|externalId|Credentials/i);
  });
});

describe("options", () => {
  it("production values are real ones", () => {
    const d = deploymentStateMachine(PRODUCTION_WORKFLOW_OPTIONS, resources);
    const apply = d.States[STATES.applyRelease] as TaskState;
    expect(apply.Retry[0]).toMatchObject({ IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: "FULL" });
    expect(apply.TimeoutSeconds).toBe(600);
    expect((d.States[STATES.runBuild] as TaskState).TimeoutSeconds).toBe((30 + 30) * 60 + 300);
    expect((d.States[STATES.prepareBuild] as TaskState).Parameters).toMatchObject({ timeoutMinutes: 30, queuedTimeoutMinutes: 30 });
    expect(d.States[STATES.waitForBuildRole]).toMatchObject({ Type: "Wait", Seconds: 15 });
    expect(d.TimeoutSeconds).toBeGreaterThan((d.States[STATES.runBuild] as TaskState).TimeoutSeconds);
  });

  it("shortened values reach the definition", () => {
    const d = deploymentStateMachine(fastOptions, resources);
    expect((d.States[STATES.applyRelease] as TaskState).Retry[0]).toMatchObject({ IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 1.5 });
    expect((d.States[STATES.beginBuild] as TaskState).TimeoutSeconds).toBe(5);
    expect(d.TimeoutSeconds).toBe(1200);
  });

  it("refuses values the services would refuse", () => {
    expect(() => workflowOptions({ build: { timeoutMinutes: 1 } })).toThrow();
    expect(() => workflowOptions({ timeouts: { applySeconds: 900 } })).toThrow();
    expect(() => workflowOptions({ retry: { intervalSeconds: 0 } })).toThrow();
    expect(() => workflowOptions({ retry: { bogus: 1 } } as never)).toThrow();
    expect(() => workflowOptions({ timeouts: { executionSeconds: 600 } })).toThrow(/must exceed the build's own limit/);
  });
});

describe("partitions", () => {
  const inPartition = (partition: string) =>
    Object.fromEntries(Object.entries(resources).map(([id, arn]) => [id, arn.replace(/^arn:aws:/, `arn:${partition}:`)])) as typeof resources;

  it("runs builds through the CodeBuild integration of the task functions' own partition", () => {
    for (const partition of ["aws", "aws-cn", "aws-us-gov"]) {
      const d = deploymentStateMachine(PRODUCTION_WORKFLOW_OPTIONS, inPartition(partition));
      expect((d.States[STATES.runBuild] as TaskState).Resource).toBe(`arn:${partition}:states:::codebuild:startBuild.sync`);
      expect(JSON.stringify(d).match(/arn:[^:"]*:/g)!.every((prefix) => prefix === `arn:${partition}:`), partition).toBe(true);
    }
  });

  it("refuses task resources of mixed partitions, or that are not Lambda ARNs", () => {
    const mixed = { ...resources, "deploys.apply": inPartition("aws-cn")["deploys.apply"] };
    expect(() => deploymentStateMachine(PRODUCTION_WORKFLOW_OPTIONS, mixed)).toThrow(/one partition/);
    expect(() => deploymentStateMachine(PRODUCTION_WORKFLOW_OPTIONS, { ...resources, "deploys.apply": "bulkhead-apply" })).toThrow(/Lambda ARNs/);
  });
});

describe("the task table", () => {
  it("every Lambda Task state runs a task of the table, and every state task is used", () => {
    const d = deploymentStateMachine(PRODUCTION_WORKFLOW_OPTIONS, resources);
    const used = new Set<string>();
    for (const [name, state] of taskStates(d)) {
      if (state.Resource === codeBuildStartBuildSync(resources)) continue;
      const task = tasks.find((t) => resources[t.id as keyof typeof resources] === state.Resource);
      expect(task, name).toBeDefined();
      used.add(task!.id);
    }
    expect([...used].sort()).toEqual(tasks.filter((t) => t.invokedBy === "state").map((t) => t.id).sort());
  });

  it("every task has a handler module exporting `handler`", async () => {
    for (const task of tasks) {
      const file = join(REPO_ROOT, taskFile(task));
      expect(existsSync(file), file).toBe(true);
      expect(typeof (await import(file)).handler, file).toBe("function");
    }
  });
});

describe("npm run workflows:print", () => {
  it("prints every registered state machine, valid, with production values", () => {
    const printed = printableDefinitions();
    expect(Object.keys(printed)).toEqual(Object.keys(stateMachines));
    expect(printed.Deployment).toEqual(deploymentStateMachine(PRODUCTION_WORKFLOW_OPTIONS, resources));
  });
});
