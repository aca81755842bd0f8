// Small progressive enhancements. Every page works without this file.
document.documentElement.classList.add("has-js");

// Copy buttons: <button data-copy="#selector">.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    const original = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = original; }, 1500);
  });
});

// On a phone the module outline would push the lesson below the fold: start it
// folded (it stays open without JavaScript, and on wide screens).
if (window.matchMedia("(max-width: 59.99rem)").matches) {
  document.querySelectorAll("details.outline-toggle[open]").forEach((el) => el.removeAttribute("open"));
}
