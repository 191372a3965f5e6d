import { useSignal } from "@preact/signals";
import { api, get } from "../api.ts";
import { ConfirmButton, CopyButton, Empty, ErrorBox, useAction, useLoad, When } from "../components.tsx";
import { can } from "../roles.ts";

type Target = { id: string; name: string; kind: "hosted" | "byoi"; accountId?: string; deployRoleArn?: string; region?: string; createdAt: string };
type Created = Target & { externalId?: string; trustPolicy?: object; deployRoleNaming?: string };

const text = (s: { value: string }) => ({ value: s.value, onInput: (e: Event) => (s.value = (e.target as HTMLInputElement).value) });

/** Deploy targets (a BYOI target's ExternalId and trust policy shown once) and enrollment tokens (shown once). */
export function TargetsPage() {
  const list = useLoad(() => get<{ items: Target[] }>("/v1/targets?limit=100"));
  const action = useAction();
  const created = useSignal<Created | undefined>(undefined);
  const enrollment = useSignal<{ token: string; expiresAt: string } | undefined>(undefined);
  const form = { name: useSignal(""), accountId: useSignal(""), region: useSignal(""), role: useSignal("") };
  const enrollFor = useSignal("");
  const register = (e: Event) => {
    e.preventDefault();
    const body = { name: form.name.value, kind: "byoi", accountId: form.accountId.value, deployRoleArn: form.role.value, region: form.region.value };
    action.run(async () => (created.value = await api("POST", "/v1/targets", { body })), () => {
      for (const field of Object.values(form)) field.value = "";
      list.reload();
    });
  };
  const issue = (e: Event) => {
    e.preventDefault();
    action.run(async () => (enrollment.value = await api("POST", "/v1/enrollments", { body: enrollFor.value ? { targetId: enrollFor.value } : {} })));
  };
  return (
    <section aria-labelledby="targets-title">
      <h1 id="targets-title">Targets and enrollment</h1>
      <ErrorBox error={list.error} />
      <ErrorBox error={action.error.value} />
      {created.value && (
        <div class="card once" data-testid="created-target" role="status">
          <h2>Target {created.value.name} registered</h2>
          <p class="warning">Shown once: copy the ExternalId and the trust policy into your AWS account now.</p>
          {created.value.externalId && <p>ExternalId <code data-testid="external-id">{created.value.externalId}</code> <CopyButton text={created.value.externalId} label="Copy ExternalId" /></p>}
          {created.value.deployRoleNaming && <p class="hint">{created.value.deployRoleNaming}</p>}
          {created.value.trustPolicy && (
            <>
              <pre data-testid="trust-policy">{JSON.stringify(created.value.trustPolicy, null, 2)}</pre>
              <CopyButton text={JSON.stringify(created.value.trustPolicy, null, 2)} label="Copy trust policy" />
            </>
          )}
          <button type="button" class="secondary" onClick={() => (created.value = undefined)}>Done</button>
        </div>
      )}
      {list.data && !list.data.items.length && <Empty>No targets registered. Deployments go to the hosted target.</Empty>}
      {!!list.data?.items.length && (
        <table data-testid="targets">
          <thead><tr><th>Name</th><th>Kind</th><th>Account</th><th>Region</th><th>Deploy role</th><th>Created</th><th /></tr></thead>
          <tbody>
            {list.data.items.map((t) => (
              <tr key={t.id} data-target={t.id}>
                <td>{t.name}</td><td>{t.kind}</td><td>{t.accountId ?? "—"}</td><td>{t.region ?? "—"}</td>
                <td><code>{t.deployRoleArn ?? "—"}</code></td><td><When at={t.createdAt} /></td>
                <td class="actions">
                  {can("targets.delete") && (
                    <ConfirmButton label="Delete" question={`Delete target ${t.name}?`} confirm="Delete"
                      onConfirm={() => action.run(() => api("DELETE", `/v1/targets/${t.id}`), list.reload)} />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {can("targets.create") && (
        <form class="card" onSubmit={register}>
          <h2>Register a customer-account (BYOI) target</h2>
          <label>Name <input name="target-name" required {...text(form.name)} /></label>
          <label>Account id <input name="account-id" required pattern="[0-9]{12}" {...text(form.accountId)} /></label>
          <label>Region <input name="region" required placeholder="eu-west-1" {...text(form.region)} /></label>
          <label>Deploy role ARN <input name="deploy-role-arn" required placeholder="arn:aws:iam::123456789012:role/bulkhead-deploy-<org>" {...text(form.role)} /></label>
          <button type="submit" disabled={action.busy.value}>Register target</button>
        </form>
      )}
      {can("enrollments.create") && (
        <form class="card" onSubmit={issue}>
          <h2>Enrollment token</h2>
          <label>For target
            <select name="enroll-target" value={enrollFor.value} onChange={(e) => (enrollFor.value = (e.target as HTMLSelectElement).value)}>
              <option value="">any</option>
              {list.data?.items.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
            </select>
          </label>
          <button type="submit" disabled={action.busy.value}>Issue token</button>
          {enrollment.value && (
            <div class="once" role="status" data-testid="enrollment-token">
              <p class="warning">Shown once, single-use, expires <When at={enrollment.value.expiresAt} />.</p>
              <code>{enrollment.value.token}</code> <CopyButton text={enrollment.value.token} label="Copy token" />
              <button type="button" class="secondary" onClick={() => (enrollment.value = undefined)}>Done</button>
            </div>
          )}
        </form>
      )}
    </section>
  );
}
