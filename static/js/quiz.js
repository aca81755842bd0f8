// Quiz: warn about unanswered questions before the form is sent.
// Without this file the server does the same check (400, answers kept).
(() => {
  const form = document.querySelector("[data-quiz-form]");
  if (!form) return;
  const warning = document.getElementById("quiz-warning");

  const unanswered = () =>
    [...form.querySelectorAll("fieldset.quiz-question")].filter(
      (fieldset) => !fieldset.querySelector("input[type=radio]:checked"),
    );

  const mark = (fieldset, missing) => {
    const error = fieldset.querySelector(".field-error");
    fieldset.classList.toggle("is-missing", missing);
    if (error) error.hidden = !missing;
    if (missing && error) fieldset.setAttribute("aria-describedby", error.id);
    else fieldset.removeAttribute("aria-describedby");
  };

  form.addEventListener("submit", (event) => {
    const missing = unanswered();
    form.querySelectorAll("fieldset.quiz-question").forEach((fieldset) => {
      mark(fieldset, missing.includes(fieldset));
    });
    if (missing.length === 0) return;
    event.preventDefault();
    const positions = missing.map((fieldset) => fieldset.dataset.position);
    const heading = document.createElement("h2");
    heading.textContent = "Not submitted yet";
    const text = document.createElement("p");
    text.textContent =
      (positions.length === 1 ? "Question " : "Questions ") +
      positions.join(", ") +
      " not answered yet. Answer every question, then submit again.";
    const list = document.createElement("ul");
    positions.forEach((position) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = "#q" + position;
      link.textContent = "Go to question " + position;
      item.append(link);
      list.append(item);
    });
    warning.replaceChildren(heading, text, list);
    warning.hidden = false;
    const server = document.getElementById("quiz-errors");
    if (server) server.hidden = true;
    warning.focus();
  });

  // Answering a flagged question clears its flag at once.
  form.addEventListener("change", (event) => {
    const fieldset = event.target.closest("fieldset.quiz-question");
    if (fieldset && fieldset.classList.contains("is-missing")) mark(fieldset, false);
  });
})();
