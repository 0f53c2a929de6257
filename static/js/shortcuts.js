// Keyboard shortcuts in the lists (contacts, inbox, Today, campaigns): j / k move a highlight from row
// to row (the row's link takes the focus), Enter opens the row, r replies, e marks it done
// (inbox: no reply needed; Today: the task), s snoozes for a day, ? lists them all
// (templates/_shortcuts.html). A list marks its rows with data-shortcut-row, and a row's
// link or form with data-shortcut="open | reply | done | snooze": what a key does is the
// page's own link or form, posted as a click would. Nothing fires while typing in a field,
// with Ctrl, Alt or ⌘ held, or while a dialog (the palette, this list) is open.
(function () {
  if (window.rapportShortcuts) return;   // boosted navigation may run this file again
  window.rapportShortcuts = true;

  var pending = null;   // after e or s: which row to highlight once the page answers
  var opener = null;

  function typing(el) {
    return !!(el && el.closest && (el.isContentEditable ||
      el.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]")));
  }
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("main [data-shortcut-row]"));
  }
  function current() { return document.querySelector("main [data-shortcut-row].is-current"); }

  function highlight(row) {
    var old = current();
    if (old && old !== row) old.classList.remove("is-current");
    if (!row) return;
    row.classList.add("is-current");
    var link = row.querySelector("[data-shortcut=open]") || row.querySelector("a[href]");
    if (link) link.focus({preventScroll: true});
    row.scrollIntoView({block: "nearest"});
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    // Moving on before the answer to e or s has settled: the answer's row is not highlighted
    // again over the row chosen now.
    pending = null;
    var i = all.indexOf(current());
    highlight(all[i < 0 ? 0 : Math.min(all.length - 1, Math.max(0, i + step))]);
  }

  function act(row, name) {
    var el = row.querySelector("[data-shortcut=" + name + "]");
    if (!el) return false;
    if (name === "done" || name === "snooze") {
      pending = {row: row, id: row.id, index: rows().indexOf(row)};
    }
    if (el.tagName === "FORM") el.requestSubmit(); else el.click();
    return true;
  }

  function showList() {
    var d = document.getElementById("shortcuts");
    if (!d || d.open) return;
    opener = document.activeElement;
    d.showModal();
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.isComposing || e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e.target) || document.querySelector("dialog[open]")) return;
    if (e.key === "?") {
      e.preventDefault();
      showList();
      return;
    }
    var row = current();
    if (e.key === "j" || e.key === "k") {
      if (!rows().length) return;
      e.preventDefault();
      move(e.key === "j" ? 1 : -1);
    } else if (!row || !row.isConnected) {
      return;
    } else if (e.key === "Enter") {
      // On the row's link Enter follows it already; elsewhere it opens the row.
      if (e.target.closest("a, button")) return;
      e.preventDefault();
      act(row, "open");
    } else if (e.key === "r" || e.key === "e" || e.key === "s") {
      if (act(row, {r: "reply", e: "done", s: "snooze"}[e.key])) e.preventDefault();
    }
  });

  // The answer to e or s is in (its row is gone from the page, replaced or with the whole
  // list) and settled (htmx settles a replaced row's class after swapping it in): the same
  // row, or the one now in its place, is highlighted again.
  document.addEventListener("htmx:afterSettle", function () {
    if (!pending || pending.row.isConnected) return;
    var again = pending.id && document.getElementById(pending.id);
    var all = rows();
    var index = pending.index;
    pending = null;
    if (!all.length) return;
    highlight(again && again.matches("[data-shortcut-row]") ? again
              : all[Math.min(index, all.length - 1)]);
  });

  document.addEventListener("close", function (e) {
    if (e.target.id !== "shortcuts") return;
    var back = opener;
    opener = null;
    if (back && back.isConnected && back.focus) back.focus();
  }, true);
})();
