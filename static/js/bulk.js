// The selection bar of the contacts list and the inbox (templates/bulk/_*_bar.html). Without
// this file the bar is a plain form that shows every field; with it, a box ticks every row of
// the page, the bar counts the ticked rows and shows only the field the chosen action needs.
(function () {
  function rows(form) {
    return Array.prototype.slice.call(
      document.querySelectorAll("input[name='ids'][form='" + form.id + "']"));
  }
  function refresh(form) {
    var boxes = rows(form);
    var ticked = boxes.filter(function (b) { return b.checked; }).length;
    var noun = form.dataset.noun || "row";
    var count = form.querySelector("[data-bulk-count]");
    if (count) {
      count.textContent = ticked ? ticked + " ticked " + noun + (ticked === 1 ? "" : "s")
                                 : "the " + noun + "s ticked below (none yet)";
    }
    var action = form.querySelector("[data-bulk-action]");
    Array.prototype.forEach.call(form.querySelectorAll("[data-bulk-for]"), function (el) {
      el.hidden = !!action && el.dataset.bulkFor !== action.value;
    });
    var page = document.querySelector("[data-bulk-page='" + form.id + "']");
    if (page) {
      page.hidden = false;
      page.checked = ticked > 0 && ticked === boxes.length;
      page.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    form.classList.toggle("has-selection", ticked > 0 || scope(form) === "all");
  }
  function scope(form) {
    var checked = form.querySelector("input[name='scope']:checked");
    return checked ? checked.value : "selected";
  }
  function useTicked(form) {
    var radio = form.querySelector("input[name='scope'][value='selected']");
    if (radio) radio.checked = true;
  }
  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-bulk]"), refresh);
  }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:load", init);
  document.addEventListener("change", function (e) {
    var t = e.target, form;
    if (t.matches("[data-bulk-page]")) {
      form = document.getElementById(t.dataset.bulkPage);
      rows(form).forEach(function (b) { b.checked = t.checked; });
      useTicked(form);
    } else if (t.matches("input[name='ids'][form]")) {
      form = document.getElementById(t.getAttribute("form"));
      if (!form || !form.hasAttribute("data-bulk")) return;
      useTicked(form);
    } else {
      form = t.closest && t.closest("form[data-bulk]");
    }
    if (form) refresh(form);
  });
  // "Export selection" downloads a file: the browser posts that form itself (htmx's boost
  // would try to swap the CSV into the page).
  document.addEventListener("submit", function (e) {
    if (e.submitter && e.submitter.hasAttribute("data-download")) e.stopPropagation();
  }, true);
})();
