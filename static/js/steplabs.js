// The optimiser and RLVR labs: a refused htmx request shows the server's message, and
// after a step the new figures are announced. Every page works without this file.
(() => {
  const alertRegion = () => document.getElementById("lab-alert");

  // The region the last request will replace (its id survives the swap).
  let target = null;

  document.addEventListener("htmx:beforeRequest", (event) => {
    target = event.detail.target ? event.detail.target.id : null;
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
      : "Something went wrong. Reload the page and try again.";
  });
  document.addEventListener("htmx:sendError", () => {
    const region = alertRegion();
    if (region) region.textContent = "Could not reach the server. Check your connection and try again.";
  });

  // The swapped region says what the step did; a live region outside it reads that out
  // (a live region inside the swapped markup would be replaced before it could speak).
  document.addEventListener("htmx:afterSettle", () => {
    const region = target ? document.getElementById(target) : null;
    const live = document.getElementById("lab-live");
    if (region && live && region.dataset.announce) live.textContent = region.dataset.announce;
  });
})();
