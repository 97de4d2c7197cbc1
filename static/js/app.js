// Progressive enhancement only: every page works without it.
// A second click on a button that changes something would send the change twice: disable it.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.sent) { event.preventDefault(); return; }
  form.dataset.sent = "1";
  // A disabled button is left out of what the form sends: keep the clicked button's name and value.
  var submitter = event.submitter;
  if (submitter && submitter.name) {
    var kept = document.createElement("input");
    kept.type = "hidden";
    kept.name = submitter.name;
    kept.value = submitter.value;
    form.appendChild(kept);
  }
  form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
});
// Pages with a scanner or counter input focus it, unless someone has already started typing
// (a scanner can be faster than the page).
function focusFirst() {
  var active = document.activeElement;
  if (active && active.matches("input, textarea, select") && active.value) { return; }
  var target = document.querySelector("[data-autofocus]");
  if (target) { target.focus(); }
}
focusFirst();  // this script is deferred: the page is parsed
window.addEventListener("pageshow", function (event) {
  // Back button from the next page: forms from the cache must be usable again.
  if (!event.persisted) { return; }
  document.querySelectorAll("form[data-sent]").forEach(function (form) {
    delete form.dataset.sent;
    form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = false; });
  });
  focusFirst();
});
// The form's Print button.
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) { window.print(); }
});
