// Small progressive enhancements; every page works without this file. The pages' strict
// Content-Security-Policy allows no inline script or on* attribute: behaviour lives here,
// switched on by data- attributes.
(function () {
  // <form data-confirm="Question?"> (or a submit button with it): ask before posting
  // (boosted or not).
  document.addEventListener("submit", function (e) {
    var question = (e.submitter && e.submitter.dataset.confirm) ||
      (e.target.dataset && e.target.dataset.confirm);
    if (question && !window.confirm(question)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
  // <input data-checks="#radio">: changing the input checks that radio button.
  document.addEventListener("change", function (e) {
    var target = e.target.dataset && e.target.dataset.checks;
    var radio = target && document.querySelector(target);
    if (radio) radio.checked = true;
  }, true);
  // <form data-ctrl-enter-submits>: Ctrl+Enter (⌘+Enter) in it sends the form.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
    var form = e.target.closest && e.target.closest("form[data-ctrl-enter-submits]");
    if (!form) return;
    e.preventDefault();
    form.requestSubmit();
  });
  // A picker's text box (<input data-picker-for="field_id" hx-get=…>) asks for `q` and
  // names the id field its suggestions fill.
  document.addEventListener("htmx:configRequest", function (e) {
    var input = e.detail.elt;
    if (!input.dataset || !input.dataset.pickerFor) return;
    e.detail.parameters.q = input.value;
    e.detail.parameters.field = input.dataset.pickerFor;
  });
  // Show only the fields that matter for the chosen kind of contact.
  document.addEventListener("change", function (e) {
    if (e.target.matches(".contact-form select[name=kind]")) {
      e.target.closest(".contact-form").dataset.kind = e.target.value;
    }
  });
  // Copy buttons: <button data-copy="#selector">.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-copy]");
    if (!btn) return;
    var source = document.querySelector(btn.dataset.copy);
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.innerText;
    navigator.clipboard.writeText(text).then(function () {
      var old = btn.textContent; btn.textContent = "Copied"; setTimeout(function () { btn.textContent = old; }, 1500);
    });
  });
  // Escape cancels an edit made in place (its Cancel link carries data-escape-cancels), and
  // the field's own Edit link has the focus again once the field is back.
  var refocus = null;
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || e.defaultPrevented) return;
    var form = e.target.closest && e.target.closest("form");
    var cancel = form && form.querySelector("[data-escape-cancels]");
    if (!cancel) return;
    e.preventDefault();
    refocus = cancel.getAttribute("hx-target");
    cancel.click();
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!refocus) return;
    var back = document.querySelector(refocus);
    var link = back && back.querySelector(".edit-link");
    // Another request (a live poll, a badge) may settle first: wait for the field's own.
    if (!link) return;
    refocus = null;
    link.focus();
  });
  // A thread is one Tab stop: ↑ and ↓ go from message to message, and only the message in
  // hand offers its Edit and Delete to Tab, so a long thread does not put two stops per
  // message between the top of the page and the message box.
  var ACTIONS = ".msg-actions a, .msg-actions button";
  function quietActions(root) {
    Array.prototype.forEach.call(root.querySelectorAll(".thread " + ACTIONS.replace(", ", ", .thread ")),
      function (el) { el.tabIndex = -1; });
  }
  document.addEventListener("DOMContentLoaded", function () { quietActions(document); });
  document.addEventListener("htmx:load", function (e) {
    if (e.target.querySelectorAll) quietActions(e.target.closest(".thread") || e.target);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    var thread = e.target.closest && e.target.closest(".thread");
    if (!thread || e.target.matches("input, textarea, select")) return;
    var messages = Array.prototype.slice.call(thread.querySelectorAll(".msg"));
    if (!messages.length) return;
    var current = e.target.closest(".msg");
    var i = current ? messages.indexOf(current) + (e.key === "ArrowDown" ? 1 : -1)
                    : messages.length - 1;   // from the thread: the latest message
    if (i < 0 || i >= messages.length) return;
    e.preventDefault();
    messages[i].tabIndex = -1;
    messages[i].focus();
  });
  document.addEventListener("focusin", function (e) {
    var msg = e.target.closest && e.target.closest(".thread .msg");
    Array.prototype.forEach.call(document.querySelectorAll(".thread .msg-actions [tabindex='0']"),
      function (el) { if (!msg || !msg.contains(el)) el.tabIndex = -1; });
    if (msg) Array.prototype.forEach.call(msg.querySelectorAll(ACTIONS), function (el) { el.tabIndex = 0; });
  });
  // Picker suggestions fill a hidden id field and a visible name field.
  document.addEventListener("click", function (e) {
    var item = e.target.closest(".suggest-item");
    if (!item) return;
    var form = item.closest("form");
    var idField = form.querySelector("[name='" + item.dataset.field + "']");
    var nameField = form.querySelector("[data-picker-for='" + item.dataset.field + "']");
    if (idField) idField.value = item.dataset.fillId;
    if (nameField) nameField.value = item.dataset.fillName;
    item.closest(".suggest").remove();
  });
  // The DM poll answers 304 when nothing changed: nothing to swap then. A conflict (409)
  // that names where it goes (HX-Retarget) brings the record as it now is, with a message
  // saying what happened: it is swapped in there.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.status === 304) e.detail.shouldSwap = false;
    if (xhr && xhr.status === 409 && xhr.getResponseHeader("HX-Retarget")) e.detail.shouldSwap = true;
  });
  // New DMs (the poll's "dmsChanged") refresh an open conversation only while nobody is
  // typing in it: its refresher listens for "dmsChangedQuiet".
  document.addEventListener("dmsChanged", function () {
    var panel = document.getElementById("conversations");
    if (!panel) return;
    var typing = Array.prototype.some.call(panel.querySelectorAll("textarea, input[type=text]"),
      function (f) { return f.value.trim() !== "" || f === document.activeElement; });
    if (!typing) document.body.dispatchEvent(new CustomEvent("dmsChangedQuiet"));
  });
})();
