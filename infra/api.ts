import { CONSOLE_ROUTES } from "../packages/console/src/settings.ts";
import type { RouteFunction } from "./functions.ts";
import type { Stage } from "./stage.ts";

/** One line per request; the domain name is the tenant, so it is always logged. */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  requestTime: "$context.requestTime",
  domainName: "$context.domainName",
  httpMethod: "$context.httpMethod",
  path: "$context.path",
  routeKey: "$context.routeKey",
  status: "$context.status",
  responseLength: "$context.responseLength",
  responseLatency: "$context.responseLatency",
  integrationStatus: "$context.integrationStatus",
  integrationError: "$context.integrationErrorMessage",
  sourceIp: "$context.identity.sourceIp",
  userAgent: "$context.identity.userAgent",
});

/**
 * The HTTP API: `*.api.<base>` (org hosts) and `api.<base>` (the platform host) on one
 * certificate, the default execute-api endpoint off (it would bypass hostname tenancy), stage
 * throttling, access logs, no CORS. One route per function, and the console's two routes.
 */
export function httpApi(stage: Stage, functions: RouteFunction[], consoleFn: sst.aws.Function) {
  const dns = sst.aws.dns(stage.hostedZoneId ? { zone: stage.hostedZoneId } : {});
  const certificate = new sst.aws.DnsValidatedCertificate("ApiCertificate", {
    domainName: stage.apiDomain,
    alternativeNames: [`*.${stage.apiDomain}`],
    dns,
  });

  const api = new sst.aws.ApiGatewayV2("Api", {
    domain: { name: `*.${stage.apiDomain}`, cert: certificate.arn, dns },
    cors: false,
    accessLog: { retention: "1 year" },
    transform: {
      api: (args) => {
        args.disableExecuteApiEndpoint = true;
      },
      stage: (args) => {
        args.defaultRouteSettings = {
          throttlingRateLimit: stage.throttle.rateLimit,
          throttlingBurstLimit: stage.throttle.burstLimit,
          detailedMetricsEnabled: true,
        };
        args.accessLogSettings = $output(args.accessLogSettings!).apply((settings) => ({
          destinationArn: settings.destinationArn,
          format: ACCESS_LOG_FORMAT,
        }));
      },
    },
  });

  for (const { route, fn } of functions) api.route(`${route.method} ${route.path}`, fn.arn);
  for (const route of CONSOLE_ROUTES) api.route(`${route.method} ${route.path}`, consoleFn.arn);

  // The apex is a second custom domain on the same API: SST's `domain` takes one name.
  const platformHost = new aws.apigatewayv2.DomainName("PlatformHost", {
    domainName: stage.apiDomain,
    domainNameConfiguration: { certificateArn: certificate.arn, endpointType: "REGIONAL", securityPolicy: "TLS_1_2" },
  });
  new aws.apigatewayv2.ApiMapping("PlatformHostMapping", { apiId: api.nodes.api.id, domainName: platformHost.id, stage: "$default" }, { dependsOn: [api] });
  dns.createAlias(
    "PlatformHost",
    {
      name: stage.apiDomain,
      aliasName: platformHost.domainNameConfiguration.apply((c) => c.targetDomainName!),
      aliasZone: platformHost.domainNameConfiguration.apply((c) => c.hostedZoneId!),
    },
    {},
  );

  return api;
}
