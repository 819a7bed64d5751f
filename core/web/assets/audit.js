// The auditor's page: reads the bundle of credentials chosen (a volunteer's download, say) and
// posts it to the node's audit, which checks each credential's signature against its issuer's
// DID document and its inclusion in the issuer's log; lists each finding as the node gives it.
// The file goes to this node only, and is kept nowhere.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("audit");
  if (!form) return;
  const english = document.documentElement.lang === "en";
  const { verified, refused, logged, unreadable } = form.dataset;
  const summary = document.getElementById("summary");
  const items = document.getElementById("items");

  const line = (text, isRefusal) => {
    const item = document.createElement("li");
    item.textContent = text;
    if (isRefusal) item.className = "refused";
    items.append(item);
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    items.replaceChildren();
    const file = document.getElementById("bundle").files[0];
    if (!file) return;
    let response;
    try {
      response = await fetch("/api/v1/audit/credentials", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: await file.text(),
      });
    } catch {
      summary.textContent = unreadable;
      return;
    }
    const body = await response.json().catch(() => null);
    if (!response.ok || !body) {
      const message = body && body.message ? (english ? body.message.en : body.message["zh-CN"]) : "";
      summary.textContent = `${unreadable} ${message}`;
      return;
    }
    summary.textContent = `${verified}: ${body.verified} · ${refused}: ${body.refused}`;
    for (const finding of body.items) {
      if (finding.verified) {
        const where = finding.logged_in == null ? "" : ` · ${logged} ${finding.logged_in}`;
        line(`✓ ${verified}: ${finding.id} · ${finding.issuer}${where}`, false);
      } else {
        line(`✗ ${refused}: ${finding.id} · ${finding.refusal}`, true);
      }
    }
  });
});
