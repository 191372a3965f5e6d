import { api, get } from "../api.ts";
import { ConfirmButton, duration, Empty, ErrorBox, timeLeft, useAction, useLoad, When } from "../components.tsx";
import { can, me } from "../roles.ts";

type Grant = {
  id: string; phase: string; state: string; targetId?: string; reason?: string; durationSeconds?: number;
  requestedBy?: string; requestedAt?: string; requestExpiresAt?: string; approvedBy?: string; approvedAt?: string;
  notAfter?: string; deniedBy?: string; revokedBy?: string; revokedAt?: string;
};

const OBSERVE = "observe";

/** Vendor access: the standing Observe grant, requests awaiting a decision, active grants, history. */
export function GrantsPage() {
  const grants = useLoad(() => get<{ items: Grant[] }>("/v1/grants?limit=100"));
  const action = useAction();
  const decide = (grant: Grant, decision: "approve" | "deny" | "revoke") =>
    action.run(() => api("POST", `/v1/grants/${grant.id}/${decision}`), grants.reload);
  const items = grants.data?.items ?? [];
  const observe = items.find((g) => g.id === OBSERVE);
  const elevated = items.filter((g) => g.id !== OBSERVE);
  const pending = elevated.filter((g) => g.state === "PENDING");
  const active = elevated.filter((g) => g.state === "ACTIVE");
  const closed = elevated.filter((g) => g.state !== "PENDING" && g.state !== "ACTIVE");

  return (
    <section aria-labelledby="grants-title">
      <h1 id="grants-title">Vendor access</h1>
      <ErrorBox error={grants.error} />
      <ErrorBox error={action.error.value} />
      {observe && (
        <div class="card" data-testid="observe">
          <h2>Standing Observe access</h2>
          <p>Read-only access for the platform's operators: <span class={`state ${observe.state}`}>{observe.state}</span>
            {observe.revokedBy && <> — revoked by {observe.revokedBy} <When at={observe.revokedAt} /></>}</p>
          {observe.state === "ACTIVE" && can("grants.revoke") && (
            <ConfirmButton label="Revoke Observe" question="Operators lose read access at once." confirm="Revoke Observe" onConfirm={() => decide(observe, "revoke")} />
          )}
          {observe.state === "REVOKED" && can("grants.approve") && (
            <button type="button" onClick={() => decide(observe, "approve")}>Restore Observe</button>
          )}
        </div>
      )}

      <h2>Pending requests</h2>
      {grants.data && !pending.length && <Empty>No requests are waiting for a decision.</Empty>}
      {!!pending.length && (
        <table data-testid="pending-grants">
          <thead><tr><th>Phase</th><th>Reason</th><th>Duration</th><th>Requested by</th><th>Requested</th><th>Expires in</th><th /></tr></thead>
          <tbody>
            {pending.map((grant) => (
              <tr key={grant.id} data-grant={grant.id}>
                <td>{grant.phase}</td>
                <td class="reason">{grant.reason}</td>
                <td>{duration(grant.durationSeconds)}</td>
                <td>{grant.requestedBy}</td>
                <td><When at={grant.requestedAt} /></td>
                <td>{timeLeft(grant.requestExpiresAt)}</td>
                <td class="actions">
                  {can("grants.approve") && grant.requestedBy !== me() && (
                    <button type="button" onClick={() => decide(grant, "approve")}>Approve</button>
                  )}
                  {can("grants.deny") && grant.requestedBy !== me() && (
                    <button type="button" class="danger" onClick={() => decide(grant, "deny")}>Deny</button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Active grants</h2>
      {grants.data && !active.length && <Empty>No elevated grant is active.</Empty>}
      {!!active.length && (
        <table data-testid="active-grants">
          <thead><tr><th>Phase</th><th>Reason</th><th>Requested by</th><th>Approved by</th><th>Time left</th><th /></tr></thead>
          <tbody>
            {active.map((grant) => (
              <tr key={grant.id} data-grant={grant.id}>
                <td>{grant.phase}</td>
                <td class="reason">{grant.reason}</td>
                <td>{grant.requestedBy}</td>
                <td>{grant.approvedBy}</td>
                <td>{timeLeft(grant.notAfter)}</td>
                <td class="actions">
                  {can("grants.revoke") && <button type="button" class="danger" onClick={() => decide(grant, "revoke")}>Revoke</button>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>History</h2>
      {grants.data && !closed.length && <Empty>No earlier grants.</Empty>}
      {!!closed.length && (
        <table data-testid="closed-grants">
          <thead><tr><th>Phase</th><th>State</th><th>Reason</th><th>Requested by</th><th>Decided by</th><th>Requested</th></tr></thead>
          <tbody>
            {closed.map((grant) => (
              <tr key={grant.id} data-grant={grant.id}>
                <td>{grant.phase}</td>
                <td><span class={`state ${grant.state}`}>{grant.state}</span></td>
                <td class="reason">{grant.reason}</td>
                <td>{grant.requestedBy}</td>
                <td>{grant.revokedBy ?? grant.deniedBy ?? grant.approvedBy ?? "—"}</td>
                <td><When at={grant.requestedAt} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
