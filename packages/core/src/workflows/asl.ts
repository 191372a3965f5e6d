/**
 * The subset of the Amazon States Language the workflows use, JSONPath query language only:
 * aws-local-stepfunctions ignores JSONata silently, so a JSONata field would mean one thing in the
 * cloud and nothing offline.
 */
export type Retrier = {
  ErrorEquals: string[];
  IntervalSeconds: number;
  MaxAttempts: number;
  BackoffRate: number;
  MaxDelaySeconds: number;
  JitterStrategy: "FULL" | "NONE";
};
export type Catcher = { ErrorEquals: string[]; Next: string; ResultPath: string | null };

type Flow = { Next: string; End?: never } | { End: true; Next?: never };

export type TaskState = {
  Type: "Task";
  Comment?: string;
  Resource: string;
  Parameters?: Record<string, unknown>;
  ResultSelector?: Record<string, unknown>;
  ResultPath?: string | null;
  TimeoutSeconds: number;
  Retry: Retrier[];
  Catch: Catcher[];
} & Flow;

export type ChoiceState = {
  Type: "Choice";
  Comment?: string;
  Choices: ({ Variable: string; Next: string } & Record<string, unknown>)[];
  Default: string;
};
export type WaitState = { Type: "Wait"; Comment?: string; Seconds: number } & Flow;
export type SucceedState = { Type: "Succeed"; Comment?: string };
export type FailState = { Type: "Fail"; Comment?: string; Error: string; Cause: string };

export type State = TaskState | ChoiceState | WaitState | SucceedState | FailState;

export type StateMachineDefinition = {
  Comment: string;
  QueryLanguage: "JSONPath";
  StartAt: string;
  TimeoutSeconds: number;
  States: Record<string, State>;
};

export const isTask = (state: State): state is TaskState => state.Type === "Task";
