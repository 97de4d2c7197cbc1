// Progressive enhancement only: every page works without it.
// A second click on a button that changes something would send the change twice: disable it.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.sent) { event.preventDefault(); return; }
  form.dataset.sent = "1";
  form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
});
// Pages with a scanner or counter input keep it focused.
window.addEventListener("pageshow", function (event) {
  // Back button from the next page: forms from the cache must be usable again.
  if (event.persisted) {
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = false; });
    });
  }
  var focus = document.querySelector("[data-autofocus]");
  if (focus) { focus.focus(); }
});
// The form's Print button.
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) { window.print(); }
});
