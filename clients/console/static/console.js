// Small enhancements of server-rendered pages; every page also works without them.
const csrf = () => document.querySelector('input[name="csrf"]')?.value ?? "";

// Search as you type: the results region is fetched again (debounced) as the filters change.
for (const form of document.querySelectorAll("form[data-live]")) {
  const target = document.getElementById(form.dataset.live);
  let timer, controller;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      controller?.abort();
      controller = new AbortController();
      const params = new URLSearchParams(new FormData(form));
      history.replaceState(null, "", `${form.action}?${params}`);
      // Links that act on what is shown (exports) follow the filters too.
      for (const link of document.querySelectorAll(`a[data-follows="${form.id}"]`)) {
        const url = new URL(link.href);
        for (const [name, value] of params) url.searchParams.set(name, value);
        link.href = url;
      }
      params.set("partial", "1");
      try {
        const answer = await fetch(`${form.action}?${params}`, {signal: controller.signal, credentials: "same-origin"});
        if (answer.redirected) { location.reload(); return; }
        target.innerHTML = await answer.text();
      } catch (error) {
        if (error.name !== "AbortError") throw error;
      }
    }, 250);
  };
  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
}

// Live progress: a region with data-poll is fetched again every second until it comes back finished.
function poll(region) {
  const url = region.dataset.poll;
  if (!url) return;
  setTimeout(async () => {
    const answer = await fetch(url, {credentials: "same-origin"});
    if (!answer.ok) return;
    const holder = document.createElement("div");
    holder.innerHTML = await answer.text();
    const fresh = holder.firstElementChild;
    if (!fresh) return;
    region.replaceWith(fresh);
    poll(fresh);
  }, 1000);
}
document.querySelectorAll("[data-poll]").forEach(poll);

// Copy a secret shown once (an API key) without selecting it by hand.
for (const button of document.querySelectorAll("button[data-copy]")) {
  button.addEventListener("click", async () => {
    await navigator.clipboard.writeText(document.getElementById(button.dataset.copy).textContent.trim());
    button.textContent = button.dataset.copied;
  });
}

// Ask before what cannot be undone.
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => { if (!confirm(form.dataset.confirm)) event.preventDefault(); });
}

// Template preview while typing.
for (const form of document.querySelectorAll("form[data-preview]")) {
  const target = document.getElementById(form.dataset.previewTarget);
  let timer;
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const answer = await fetch(form.dataset.preview, {method: "POST", body: new FormData(form),
        credentials: "same-origin", headers: {"X-CSRF-Token": csrf()}});
      target.innerHTML = await answer.text();
    }, 400);
  });
}

// After a refusal, bring the problem into view for keyboard and screen-reader users.
document.getElementById("problem")?.focus();
