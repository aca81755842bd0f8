// Teaching pages: small htmx enhancements. Every page works without this file.

// Show the server's readable 400 message in place (htmx does not swap 4xx by default).
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 400) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

document.addEventListener("htmx:afterSettle", (event) => {
  // With outerHTML swaps the old target is gone: find the new element by its id.
  const id = event.detail.target && event.detail.target.id;
  const root = id ? document.getElementById(id) : null;
  if (!root || !root.hasAttribute("data-focus-on-swap")) return;

  // Keep the picker's aria-current in step with the panel that was swapped in.
  const current = root.dataset.pickerHref;
  if (current) {
    document.querySelectorAll(".picker a").forEach((link) => {
      if (link.getAttribute("href") === current) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
  }

  // Move focus to the new panel's heading, so keyboard and screen-reader users land on
  // the new content instead of on a link that no longer exists.
  const heading = root.querySelector("h2[tabindex], h3[tabindex]");
  if (heading) heading.focus();
});
