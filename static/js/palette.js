// The command palette: Ctrl+K (⌘K) anywhere, or "/" when not typing, opens the search
// dialog (templates/search/_palette.html); its box asks GET /search for the results as you
// type (htmx). It is a combobox: ↑ and ↓ move through the listbox's options, Enter opens
// the chosen one (or, with none chosen, the full /search page), Esc closes the dialog and
// gives the focus back to where it was. Without this file the header's Search link opens
// the /search page.
(function () {
  if (window.rapportPalette) return;   // boosted navigation may run this file again
  window.rapportPalette = true;

  var opener = null;

  function dialog() { return document.getElementById("palette"); }
  function input() { return document.getElementById("palette-q"); }
  function options() {
    return Array.prototype.slice.call(document.querySelectorAll("#palette-listbox [role=option]"));
  }

  // Typing somewhere: a shortcut must not steal the key.
  function typing(el) {
    return !!(el && el.closest && (el.isContentEditable ||
      el.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]")));
  }

  function open() {
    var d = dialog();
    if (!d || d.open) return;
    var other = document.querySelector("dialog[open]");
    if (other) other.close();
    opener = document.activeElement;
    d.showModal();
    var box = input();
    box.focus();
    box.select();
  }

  function close() {
    var d = dialog();
    if (d && d.open) d.close();
  }

  function choose(i) {
    var all = options();
    var box = input();
    all.forEach(function (o, n) { o.setAttribute("aria-selected", n === i ? "true" : "false"); });
    if (i < 0 || i >= all.length) {
      box.removeAttribute("aria-activedescendant");
      return;
    }
    box.setAttribute("aria-activedescendant", all[i].id);
    all[i].scrollIntoView({block: "nearest"});
  }

  function chosen() {
    var all = options();
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute("aria-selected") === "true") return i;
    }
    return -1;
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.isComposing) return;
    var k = (e.key || "").toLowerCase();
    if (k === "k" && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey) {
      e.preventDefault();
      var d = dialog();
      if (d && d.open) { input().focus(); input().select(); } else { open(); }
      return;
    }
    if (e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !typing(e.target)
        && !document.querySelector("dialog[open]")) {
      e.preventDefault();
      open();
    }
  });

  // Keys in the palette's box: the combobox's own.
  document.addEventListener("keydown", function (e) {
    if (e.target.id !== "palette-q" || e.isComposing) return;
    var all = options();
    var i = chosen();
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!all.length) return;
      var step = e.key === "ArrowDown" ? 1 : -1;
      choose(i < 0 ? (step > 0 ? 0 : all.length - 1) : (i + step + all.length) % all.length);
    } else if (e.key === "Home" && e.ctrlKey && all.length) {
      e.preventDefault(); choose(0);
    } else if (e.key === "End" && e.ctrlKey && all.length) {
      e.preventDefault(); choose(all.length - 1);
    } else if (e.key === "Enter" && i >= 0) {
      e.preventDefault();
      all[i].click();    // a link: boosted by htmx like any other
    } else if (e.key === "Escape") {
      e.preventDefault();
      close();
    }
  });

  // Each new set of results: the first is chosen, so Enter opens it.
  document.addEventListener("htmx:afterSwap", function (e) {
    if (!e.detail.target || e.detail.target.id !== "palette-results") return;
    var box = input();
    var any = options().length > 0;
    box.setAttribute("aria-expanded", any ? "true" : "false");
    choose(any ? 0 : -1);
  });

  // The mouse chooses too; a click on an option closes the dialog on its way.
  document.addEventListener("mousemove", function (e) {
    var option = e.target.closest && e.target.closest("#palette-listbox [role=option]");
    if (option && option.getAttribute("aria-selected") !== "true") choose(options().indexOf(option));
  });
  // The header's Search link opens the palette instead of the page: taken on the way down,
  // before htmx's boost on the link itself would follow it.
  document.addEventListener("click", function (e) {
    if (!e.target.closest || !e.target.closest("[data-palette-open]") || !dialog()) return;
    e.preventDefault();
    e.stopPropagation();
    open();
  }, true);
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-palette-close]")) {
      close();
    } else if (e.target.id === "palette") {
      close();           // a click on the backdrop, outside the dialog's box
    } else if (e.target.closest("#palette-listbox [role=option]")) {
      close();
    }
  });

  // Closed by any means: the focus goes back where it was. The last search stays, selected,
  // for the next time (typing replaces it).
  document.addEventListener("close", function (e) {
    if (e.target.id !== "palette") return;
    var back = opener;
    opener = null;
    if (back && back.isConnected && back.focus) back.focus();
  }, true);
})();
