import { render } from "preact";
import { signal } from "@preact/signals";
import { get } from "./api.ts";
import { completeSignIn, session, signIn, signOut } from "./auth.ts";
import { ErrorBox, useLoad } from "./components.tsx";
import { can } from "./roles.ts";
import { AppPage } from "./pages/app.tsx";
import { AppsPage } from "./pages/apps.tsx";
import { AuditPage } from "./pages/audit.tsx";
import { GrantsPage } from "./pages/grants.tsx";
import { TargetsPage } from "./pages/targets.tsx";
import "./style.css";

/** Hash routes keep the console one document: the server serves index.html at /console/ only. */
const route = signal(location.hash || "#/grants");
addEventListener("hashchange", () => (route.value = location.hash || "#/grants"));
const signInError = signal<unknown>(undefined);

const PAGES = [
  { hash: "#/grants", label: "Vendor access", route: "grants.list" },
  { hash: "#/audit", label: "Audit", route: "audit.list" },
  { hash: "#/apps", label: "Apps", route: "apps.list" },
  { hash: "#/targets", label: "Targets", route: "targets.list" },
];

function Page() {
  const appMatch = /^#\/apps\/([a-z2-7]+)$/.exec(route.value);
  if (appMatch) return <AppPage appId={appMatch[1]!} />;
  const page = PAGES.find((p) => p.hash === route.value) ?? PAGES[0]!;
  if (!can(page.route)) return <p class="empty">Your role cannot see this page.</p>;
  switch (page.hash) {
    case "#/audit": return <AuditPage />;
    case "#/apps": return <AppsPage />;
    case "#/targets": return <TargetsPage />;
    default: return <GrantsPage />;
  }
}

function Console() {
  const claims = session.value!.claims;
  const org = useLoad(() => get<{ name: string; slug: string }>("/v1/org"));
  return (
    <>
      <header class="top">
        <strong class="org">{org.data ? org.data.name : location.hostname.split(".")[0]}</strong>
        <nav>
          {PAGES.filter((p) => can(p.route)).map((p) => (
            <a key={p.hash} href={p.hash} aria-current={route.value.startsWith(p.hash) ? "page" : undefined}>{p.label}</a>
          ))}
        </nav>
        <span class="who" data-testid="who">{claims.sub} · {claims.role}{claims.org ? ` · ${claims.org}` : ""}</span>
        <button type="button" class="secondary" onClick={signOut}>Sign out</button>
      </header>
      <ErrorBox error={org.error} />
      {!org.error && <Page />}
    </>
  );
}

function Root() {
  if (session.value) return <Console />;
  return (
    <section class="sign-in">
      <h1>Bulkhead console</h1>
      <p>Sign in with your organization's identity provider.</p>
      <ErrorBox error={signInError.value} />
      <button type="button" onClick={() => signIn().catch((error) => (signInError.value = error))}>Sign in</button>
    </section>
  );
}

completeSignIn().catch((error) => (signInError.value = error)).finally(() => {
  route.value = location.hash || "#/grants";
  render(<Root />, document.getElementById("console")!);
});
