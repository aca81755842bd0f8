// Labeling pages: keyboard picks, focus after htmx swaps, readable htmx errors,
// and the beta slider's live read-out. Every page works without this file.
(() => {
  const typing = (el) =>
    el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));

  // While a pick is in flight and until htmx has wired up the new pair's form, keys
  // are ignored: a key pressed in between would submit the fresh form the plain way
  // (or twice). The attribute lets tests and styles see the state.
  let busy = false;
  const setBusy = (value) => {
    busy = value;
    document.documentElement.toggleAttribute("data-labeling-busy", value);
  };

  // 1 / ArrowLeft picks the left response, 2 / ArrowRight the right one.
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    if (busy) return;
    let side = null;
    if (event.key === "1" || event.key === "ArrowLeft") side = "left";
    if (event.key === "2" || event.key === "ArrowRight") side = "right";
    if (!side) return;
    const button = document.querySelector(`[data-choice="${side}"]`);
    if (!button) return;
    event.preventDefault();
    // A disabled button (request in flight) ignores the click: no double submit.
    if (!button.disabled) button.click();
  });

  const alertRegion = () => document.getElementById("labeling-alert");

  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.target.closest("#pair-panel")) setBusy(true);
    const region = alertRegion();
    if (region) region.textContent = "";
  });
  // A failed request never settles; free the keys again.
  document.addEventListener("htmx:afterRequest", (event) => {
    if (!event.detail.successful) setBusy(false);
  });

  // htmx does not swap 4xx/5xx responses; show the server's plain-text message.
  document.addEventListener("htmx:responseError", (event) => {
    const region = alertRegion();
    if (!region) return;
    const xhr = event.detail.xhr;
    region.textContent = xhr.responseText && xhr.status < 500
      ? xhr.responseText
      : "Something went wrong; your earlier picks are safe. Reload the page and try again.";
  });
  document.addEventListener("htmx:sendError", () => {
    const region = alertRegion();
    if (region) region.textContent = "Could not reach the server. Check your connection and try again.";
  });

  // After a new pair arrives, move focus to its heading and announce the save.
  // afterSettle, not afterSwap: htmx wires up the new form's hx-post while settling,
  // and a key pressed before that would submit the form the plain way.
  document.addEventListener("htmx:afterSettle", () => {
    setBusy(false);
    const target = document.getElementById("pair-panel");
    if (!target) return;
    const live = document.getElementById("labeling-live");
    if (live && target.dataset.announce) live.textContent = target.dataset.announce;
    const heading = target.querySelector("[data-focus-after-swap]");
    if (heading) heading.focus();
  });

  // Beta slider: show the value being dragged to before the server answers.
  document.addEventListener("input", (event) => {
    const slider = event.target.closest("[data-beta-values]");
    if (!slider) return;
    const values = JSON.parse(slider.dataset.betaValues);
    const out = document.getElementById(slider.dataset.output);
    if (out) out.textContent = values[Number(slider.value)];
  });
})();
