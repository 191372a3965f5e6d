import { CloudWatchLogsClient, DescribeLogStreamsCommand, GetLogEventsCommand, ResourceNotFoundException } from "@aws-sdk/client-cloudwatch-logs";
import type { BuildLogPort } from "../ports.ts";

/** Reads the end of a build's CloudWatch log stream (CodeBuild names it `<prefix>/<build uuid>`). */
export function cloudWatchBuildLogs(client = new CloudWatchLogsClient({})): BuildLogPort {
  return {
    async tail({ logGroup, streamPrefix }, maxBytes) {
      try {
        const { logStreams = [] } = await client.send(new DescribeLogStreamsCommand({
          logGroupName: logGroup,
          logStreamNamePrefix: streamPrefix,
          limit: 1,
        }));
        const stream = logStreams[0]?.logStreamName;
        if (!stream) return undefined;
        const { events = [] } = await client.send(new GetLogEventsCommand({
          logGroupName: logGroup,
          logStreamName: stream,
          startFromHead: false,
          limit: 200,
        }));
        const text = events.map((e) => e.message ?? "").join("").replace(/\r/g, "");
        const bytes = Buffer.from(text, "utf8");
        if (bytes.length <= maxBytes) return { text, truncated: events.length === 200 };
        return { text: bytes.subarray(bytes.length - maxBytes).toString("utf8").replace(/^[^\n]*\n/, ""), truncated: true };
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return undefined;
        throw error;
      }
    },
  };
}
