"""A readable page of the API, drawn in the browser from /api/v1/openapi.json.

Self-contained (no scripts or fonts from elsewhere), so it works offline and under
a strict Content-Security-Policy."""

DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>LienHiep API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2433;background:#f6f7fb}
header{background:#0b4f8a;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85}main{max-width:1100px;margin:0 auto;padding:20px 28px}
h2{margin:28px 0 8px;font-size:18px;text-transform:capitalize;border-bottom:2px solid #d9deea;padding-bottom:4px}
details{background:#fff;border:1px solid #d9deea;border-radius:8px;margin:8px 0}
summary{cursor:pointer;padding:10px 14px;display:flex;gap:12px;align-items:center}
.m{font:600 12px monospace;padding:3px 8px;border-radius:4px;color:#fff;min-width:52px;text-align:center}
.get{background:#1f7a4d}.post{background:#0b4f8a}.put,.patch{background:#9a6700}.delete{background:#b42318}
code{font:13px monospace}.who{margin-left:auto;font-size:12px;color:#556}
.body{padding:0 16px 12px}pre{background:#f0f2f7;padding:10px;border-radius:6px;overflow:auto;font-size:12px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #d9deea;padding:4px 8px;text-align:left}
</style></head><body>
<header><h1>LienHiep API</h1><p>Partner keys: <code>Authorization: Bearer lh_…</code> or <code>X-API-Key</code>.
Staff: <code>POST /api/v1/auth/login</code>, then <code>Authorization: Bearer lhs.…</code>.
Errors are RFC 9457 problem+json. <a style="color:#fff" href="openapi.json">openapi.json</a> ·
<a style="color:#fff" href="asyncapi.json">asyncapi.json</a></p></header>
<main id="api">Loading…</main>
<script>
const esc = s => String(s ?? "").replace(/[&<>"]/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c]));
fetch("openapi.json").then(r => r.json()).then(doc => {
  const groups = {};
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item)) (groups[op.tags[0]] ??= []).push({path, method, op});
  const schema = s => s && s.$ref ? s.$ref.split("/").pop() : JSON.stringify(s);
  let html = "";
  for (const [tag, ops] of Object.entries(groups).sort()) {
    html += `<h2>${esc(tag)}</h2>`;
    for (const {path, method, op} of ops) {
      const who = op.security && op.security.length === 0 ? "public" : (op["x-required-scope"] || "staff");
      const params = (op.parameters || []).map(p => `<tr><td>${esc(p.name)}</td><td>${esc(p.in)}</td>
        <td>${p.required ? "yes" : ""}</td><td>${esc(p.description || schema(p.schema))}</td></tr>`).join("");
      const body = op.requestBody ? Object.entries(op.requestBody.content).map(([m, c]) =>
        `<p>Body (${esc(m)}): <code>${esc(schema(c.schema))}</code></p>`).join("") : "";
      const resp = Object.entries(op.responses).map(([code, r]) => `${esc(code)} ${esc(r.description)}`).join(" · ");
      const bodySchema = op.requestBody && op.requestBody.content["application/json"];
      const shape = bodySchema ? `<pre>${esc(JSON.stringify(doc.components.schemas[schema(bodySchema.schema)], null, 2))}</pre>` : "";
      html += `<details><summary><span class="m ${method}">${method.toUpperCase()}</span><code>${esc(path)}</code>
        <span>${esc(op.summary)}</span><span class="who">${esc(who)}</span></summary><div class="body">
        ${op.description ? `<p>${esc(op.description)}</p>` : ""}
        ${params ? `<table><tr><th>parameter</th><th>in</th><th>required</th><th>meaning</th></tr>${params}</table>` : ""}
        ${body}${shape}<p>Answers: ${resp}</p></div></details>`;
    }
  }
  document.getElementById("api").innerHTML = html;
});
</script></body></html>
"""
