// LTI pages. Everything here also works without JavaScript (the page shows both ways).

// Before a launch: can this page keep cookies inside the LMS's frame? If so, go on at
// once; if not, leave the "open in a new window" button as the way forward.
(() => {
  const check = document.getElementById("lti-cookie-check");
  if (!check) return;
  const name = "lti_cookie_check";
  document.cookie = `${name}=1; path=/; SameSite=None; Secure`;
  const works = document.cookie.split("; ").includes(`${name}=1`);
  if (works) {
    document.cookie = `${name}=; path=/; max-age=0; SameSite=None; Secure`;
    document.getElementById("lti-blocked").hidden = true;
    document.getElementById("lti-checking").hidden = false;
    window.location.replace(check.dataset.continueUrl);
    return;
  }
  // Blocked: continuing in the frame would fail, so offer only the new window.
  document.getElementById("lti-stay").hidden = true;
  const button = document.getElementById("lti-new-window");
  button.focus();
  button.addEventListener("click", () => {
    document.getElementById("lti-opened").hidden = false;
  });
})();

// The deep-linking answer: post it back to the LMS without a click.
(() => {
  const form = document.querySelector("form[data-lti-autosubmit]");
  if (form) form.submit();
})();
