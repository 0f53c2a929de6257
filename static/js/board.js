// The board: drag a card to another column and the card's "Move" button submits its column's
// stage menu (htmx posts it with the card's version), so dragging and the no-JS menu share
// one path.
(function () {
  // Boosted navigation runs this file again; the listeners below only need adding once.
  if (window.rapportBoard) { window.rapportBoard.init(document); return; }
  var script = document.currentScript;

  function submitMove(card, stageId) {
    // The card's "Move" button submits its column's stage menu (form="move-<stage>") to the
    // deal's own move URL with its version; a drag chooses the stage and presses it.
    var button = card.querySelector("button.card-move");
    var form = button && button.form;
    if (!form) return;
    var select = form.querySelector("select[name=stage_id]");
    var hidden = form.querySelector("input[name=stage_id][type=hidden]");
    if (hidden) hidden.remove();
    select.disabled = false;
    select.value = stageId;
    if (select.value !== stageId) {
      // A stage the menu does not offer (e.g. a retired one): post it anyway.
      var input = document.createElement("input");
      input.type = "hidden"; input.name = "stage_id"; input.value = stageId;
      select.disabled = true;
      form.appendChild(input);
    }
    card.classList.add("is-saving");
    button.click();   // a click, so htmx knows the submitter (its formaction and version)
  }

  function listUnder(e) {
    var point = e && e.changedTouches ? e.changedTouches[0] : e;
    if (!point || point.clientX === undefined) return undefined;
    var el = document.elementFromPoint(point.clientX, point.clientY);
    return el ? el.closest(".board-cards[data-stage]") : null;
  }

  // While a card is dragged, the board scrolls itself when the pointer nears its left or
  // right edge, and the won and lost columns stay in view (sticky, see app.css).
  var EDGE = 80, STEP = 22, drag = null;

  function pointerX(e) {
    var point = e && e.touches && e.touches.length ? e.touches[0] : e;
    return point && point.clientX !== undefined ? point.clientX : null;
  }

  function followPointer(e) {
    var x = pointerX(e);
    if (drag && x !== null) drag.x = x;
  }

  function autoScroll() {
    if (!drag) return;
    var box = drag.board.getBoundingClientRect();
    var left = Math.max(box.left, 0), right = Math.min(box.right, window.innerWidth);
    if (drag.x !== null) {
      if (drag.x > right - EDGE) drag.board.scrollLeft += STEP * Math.min(1, (drag.x - (right - EDGE)) / EDGE + .3);
      else if (drag.x < left + EDGE) drag.board.scrollLeft -= STEP * Math.min(1, ((left + EDGE) - drag.x) / EDGE + .3);
    }
    drag.frame = requestAnimationFrame(autoScroll);
  }

  function dragStarted(evt) {
    var board = evt.from.closest("[data-board]");
    if (!board) return;
    board.classList.add("is-dragging-card");
    drag = { board: board, x: null, frame: requestAnimationFrame(autoScroll) };
    document.addEventListener("mousemove", followPointer, true);
    document.addEventListener("touchmove", followPointer, true);
  }

  function dragEnded() {
    if (!drag) return;
    cancelAnimationFrame(drag.frame);
    drag.board.classList.remove("is-dragging-card");
    document.removeEventListener("mousemove", followPointer, true);
    document.removeEventListener("touchmove", followPointer, true);
    drag = null;
  }

  function initLists(root) {
    if (typeof Sortable === "undefined") return;
    var lists = root.querySelectorAll ? root.querySelectorAll(".board-cards[data-stage]") : [];
    if (root.matches && root.matches(".board-cards[data-stage]")) lists = [root].concat(Array.from(lists));
    Array.prototype.forEach.call(lists, function (list) {
      if (list._sortable) return;
      // Won/lost columns hold no cards, but a card crossing one on its way to the next must
      // be free to move on, so every list may give and take.
      list._sortable = Sortable.create(list, {
        group: "board",
        sort: false,
        draggable: ".deal-card",
        filter: "select, button, input, label",
        preventOnFilter: false,
        forceFallback: true,
        fallbackTolerance: 4,
        animation: 120,
        ghostClass: "is-ghost",
        chosenClass: "is-chosen",
        dragClass: "is-dragging",
        scroll: false,          // the board's own edge scrolling above, the same everywhere
        onStart: dragStarted,
        onEnd: function (evt) {
          // Sortable places the card at its last checked position (checked every few ms);
          // a quick release after crossing a column must not leave it there, so the column
          // under the pointer decides, and a release outside any column moves nothing.
          var target = listUnder(evt.originalEvent);
          dragEnded();   // after reading the column under the pointer: won/lost stop sticking
          if (target === undefined) target = evt.to;   // no pointer position: trust Sortable
          if (target !== evt.to) {
            if (!target || target === evt.from) {
              evt.from.insertBefore(evt.item, evt.from.children[evt.oldIndex] || null);
              return;
            }
            target.appendChild(evt.item);
          }
          if (target === evt.from) return;
          submitMove(evt.item, target.dataset.stage);
        }
      });
    });
  }

  function openDialogs(root) {
    var dialogs = root.querySelectorAll ? root.querySelectorAll("dialog[data-auto-open]") : [];
    Array.prototype.forEach.call(dialogs, function (d) {
      if (!d.open) d.showModal();
      var first = d.querySelector("select, input:not([type=hidden]), textarea");
      if (first) first.focus();
    });
  }

  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-close-dialog]");
    if (!btn) return;
    var dialog = btn.closest("dialog");
    dialog.close();
    dialog.remove();
  });

  function ready() {
    window.rapportBoard = { init: initLists };
    initLists(document);
    if (window.htmx) {
      htmx.onLoad(function (el) { initLists(el); openDialogs(el); });
    }
  }

  function start() {
    if (typeof Sortable !== "undefined") return ready();
    // SortableJS (vendored, pinned) is loaded on demand, so boosted navigation gets it too.
    var lib = document.createElement("script");
    lib.src = script && script.dataset.sortable;
    lib.onload = ready;
    document.head.appendChild(lib);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
