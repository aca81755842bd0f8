// Labeling pages: keyboard picks, focus after htmx swaps, readable htmx errors,
// and the beta slider's live read-out. Every page works without this file.
(() => {
  const typing = (el) =>
    el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));

  // 1 / ArrowLeft picks the left response, 2 / ArrowRight the right one.
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
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

  document.addEventListener("htmx:beforeRequest", () => {
    const region = alertRegion();
    if (region) region.textContent = "";
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
  document.addEventListener("htmx:afterSwap", (event) => {
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
