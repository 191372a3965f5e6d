import { ExecutionAlreadyExists, ExecutionDoesNotExist, SFNClient, StartExecutionCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { deploymentsConfig, type DeploymentsConfig } from "../config.ts";
import type { ExecutionPort } from "../ports.ts";

/** An execution's ARN follows from its state machine's ARN and its name. */
export const executionArnFor = (stateMachineArn: string, name: string): string =>
  `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;

export function sfnExecutions(
  config: Pick<DeploymentsConfig, "stateMachineArn"> = deploymentsConfig(),
  client = new SFNClient({}),
): ExecutionPort {
  return {
    async start(name, input) {
      try {
        const { executionArn } = await client.send(new StartExecutionCommand({
          stateMachineArn: config.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }));
        return { executionArn: executionArn! };
      } catch (error) {
        // The name was used before (a replay after the first execution closed): there is still one execution.
        if (error instanceof ExecutionAlreadyExists) return { executionArn: executionArnFor(config.stateMachineArn, name) };
        throw error;
      }
    },
    async stop(name, reason) {
      try {
        await client.send(new StopExecutionCommand({
          executionArn: executionArnFor(config.stateMachineArn, name),
          error: reason.error,
          cause: reason.cause,
        }));
      } catch (error) {
        if (!(error instanceof ExecutionDoesNotExist)) throw error;
      }
    },
  };
}
