/* Busy states for forms that can take seconds (approve, reject, cancel; any form with the
   class busy-once): after the first submit the buttons are disabled and the one pressed says
   the form's data-busy text ("Working…", "处理中…"), so a double click sends one request. */
document.querySelectorAll("form.busy-once").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (form.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
    form.setAttribute("aria-busy", "true");
    var pressed = event.submitter;
    if (pressed) { pressed.textContent = form.dataset.busy; }
    setTimeout(function () {
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
});
