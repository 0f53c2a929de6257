// Small progressive enhancements; every page works without this file.
(function () {
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
})();
