// Labs: the sliders' live read-outs and readable htmx errors. Every page works without
// this file (the forms are plain GET forms with a "Show" button).
(() => {
  document.addEventListener("input", (event) => {
    const slider = event.target.closest("input[type=range][data-output]");
    if (!slider) return;
    const out = document.getElementById(slider.dataset.output);
    const values = slider.dataset.values ? JSON.parse(slider.dataset.values) : null;
    const shown = values ? values[Number(slider.value)] : slider.value;
    if (out) out.textContent = shown;
    slider.setAttribute("aria-valuetext", `${slider.name} ${shown}`);
  });

  const alertRegion = () => document.querySelector("[data-labs-alert]");
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
      : "Something went wrong. Reload the page and try again.";
  });
})();
