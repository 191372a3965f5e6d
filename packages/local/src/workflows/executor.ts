import { ExecutionAbortedError, ExecutionTimeoutError, StateMachine, type StateMachineDefinition as LocalDefinition } from "aws-local-stepfunctions";
import type { ExecutionInput, ExecutionPort } from "@bulkhead/core/deployments/ports";
import type { StateMachineDefinition } from "@bulkhead/core/workflows/asl";

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";

/** One event of an execution's history, as aws-local-stepfunctions reports it. */
export type HistoryEvent = { type: string; timestamp: number } & Record<string, unknown>;

export type LocalExecution = {
  name: string;
  executionArn: string;
  input: ExecutionInput;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  error?: { error: string; cause: string };
  history: HistoryEvent[];
  /** Settles once the execution has ended and its close handler has run. */
  done: Promise<void>;
};

/** The event EventBridge delivers for a closed execution ("Step Functions Execution Status Change"). */
export type ExecutionStatusChange = {
  "detail-type": "Step Functions Execution Status Change";
  source: "aws.states";
  detail: { executionArn: string; stateMachineArn: string; name: string; status: ExecutionStatus; input: string };
};

export type LocalExecutorOptions = {
  stateMachineArn: string;
  definition: StateMachineDefinition;
  /** Task state name → the function that runs it (see bindings.ts). */
  localHandlers: Record<string, (input: unknown) => Promise<unknown>>;
  /** Replaces every Retry pause with this many milliseconds (the ASL keeps its real intervals). */
  retryDelayMs?: number;
  /** Wait state name → milliseconds. */
  waitOverridesMs?: Record<string, number>;
  /** What EventBridge would invoke when an execution ends other than SUCCEEDED. */
  onClosed?: (event: ExecutionStatusChange) => Promise<unknown>;
  /** Closed executions kept for inspection. */
  keepClosed?: number;
};

export type LocalExecutor = ExecutionPort & {
  get: (name: string) => LocalExecution | undefined;
  list: () => LocalExecution[];
  /** Aborts every running execution and waits for them to close. */
  stopAll: () => Promise<void>;
};

/**
 * The offline Step Functions: runs the state machine's JSON in process with aws-local-stepfunctions
 * (constructed once, with its validation off: the definition was validated with asl-validator),
 * with Task states bound to local handlers. It keeps each execution's event history, names
 * executions uniquely like Step Functions does, and reports closed executions the way EventBridge
 * would, so abnormal ends reach the same handler as in the cloud.
 */
export function localExecutor(options: LocalExecutorOptions): LocalExecutor {
  const machine = new StateMachine(options.definition as unknown as LocalDefinition, { validationOptions: { noValidate: true } });
  type Running = LocalExecution & { abort: () => void };
  const executions = new Map<string, Running>();
  const keepClosed = options.keepClosed ?? 500;
  const retryIntervalOverrides: Record<string, number> = {};
  if (options.retryDelayMs !== undefined) {
    for (const [name, state] of Object.entries(options.definition.States)) {
      if ("Retry" in state) retryIntervalOverrides[name] = options.retryDelayMs;
    }
  }

  const forgetOldest = () => {
    const closed = [...executions.values()].filter((e) => e.status !== "RUNNING");
    for (const old of closed.slice(0, Math.max(0, closed.length - keepClosed))) executions.delete(old.name);
  };

  return {
    async start(name, input) {
      const existing = executions.get(name);
      // One execution per name, as in Step Functions: a repeat start returns it.
      if (existing) return { executionArn: existing.executionArn };
      const executionArn = `${options.stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
      const startDate = new Date();
      const run = machine.run(input, {
        overrides: {
          taskResourceLocalHandlers: options.localHandlers as never,
          retryIntervalOverrides,
          waitTimeOverrides: options.waitOverridesMs,
        },
        context: {
          Execution: { Id: executionArn, Name: name, StartTime: startDate.toISOString() },
          StateMachine: { Id: options.stateMachineArn, Name: options.stateMachineArn.split(":").pop() },
        },
      });
      const execution: Running = { name, executionArn, input, status: "RUNNING", startDate, history: [], abort: run.abort, done: Promise.resolve() };
      void (async () => {
        for await (const event of run.eventLogs) execution.history.push(event as unknown as HistoryEvent);
      })();
      execution.done = run.result.then(
        () => {
          execution.status = "SUCCEEDED";
        },
        (error: unknown) => {
          if (error instanceof ExecutionAbortedError) execution.status = "ABORTED";
          else if (error instanceof ExecutionTimeoutError) execution.status = "TIMED_OUT";
          else {
            execution.status = "FAILED";
            const cause = (error as { cause?: Error }).cause;
            execution.error = { error: cause?.name ?? "States.Runtime", cause: cause?.message ?? String(error) };
          }
        },
      ).then(async () => {
        execution.stopDate = new Date();
        if (execution.status !== "SUCCEEDED" && options.onClosed) {
          await options.onClosed({
            "detail-type": "Step Functions Execution Status Change",
            source: "aws.states",
            detail: { executionArn, stateMachineArn: options.stateMachineArn, name, status: execution.status, input: JSON.stringify(input) },
          }).catch((error: unknown) => console.error(`offline executor: close handler of ${name} failed:`, error));
        }
        forgetOldest();
      });
      executions.set(name, execution);
      return { executionArn };
    },
    async stop(name) {
      const execution = executions.get(name);
      if (!execution || execution.status !== "RUNNING") return;
      execution.abort();
      await execution.done;
    },
    get: (name) => executions.get(name),
    list: () => [...executions.values()],
    async stopAll() {
      const running = [...executions.values()].filter((e) => e.status === "RUNNING");
      for (const execution of running) execution.abort();
      await Promise.all(running.map((e) => e.done));
    },
  };
}
