// One answer to every failed htmx request: htmx swaps nothing for 4xx/5xx answers or when
// the server cannot be reached, so without this the page would simply not react.
// The message is the answer's own ([data-error-message] in its markup, or a text/plain
// body) when it has one, else a plain sentence for its status.
(function () {
  if (window.rapportErrors) return;   // boosted navigation runs this file again
  window.rapportErrors = true;

  var FALLBACK = {
    400: "That request was not understood. Reload the page and try again.",
    403: "You are not allowed to do that.",
    404: "That is no longer there, or no longer yours to see. Reload the page to see what is.",
    409: "Someone changed this meanwhile. Reload the page to see their change, then try again.",
    413: "That file is too large.",
    429: "Too many attempts. Wait a minute, then try again.",
    500: "Something went wrong on our side and nothing was saved. Try again in a moment."
  };
  var OFFLINE = "Rapport could not be reached. Check your connection, then try again.";

  function messageOf(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    var body = xhr.responseText || "";
    if (type.indexOf("text/plain") === 0 && body.trim() && body.length < 500) return body.trim();
    if (type.indexOf("text/html") === 0 && body) {
      var doc = new DOMParser().parseFromString(body, "text/html");
      var said = doc.querySelector("[data-error-message]");
      if (said && said.textContent.trim()) return said.textContent.trim();
    }
    return FALLBACK[xhr.status] || (xhr.status >= 500 ? FALLBACK[500]
      : "That did not work (error " + xhr.status + "). Reload the page and try again.");
  }

  function show(text) {
    var box = document.getElementById("flashes");
    if (!box) return;
    var old = box.querySelector(".flash-request-error");
    if (old) old.remove();
    var note = document.createElement("div");
    note.className = "flash flash-error flash-request-error";
    note.setAttribute("role", "alert");
    var words = document.createElement("span");
    words.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn btn-ghost btn-sm flash-close";
    close.textContent = "Dismiss";
    note.appendChild(words);
    note.appendChild(close);
    box.appendChild(note);
  }

  document.addEventListener("htmx:responseError", function (e) { show(messageOf(e.detail.xhr)); });
  document.addEventListener("htmx:sendError", function () { show(OFFLINE); });
  document.addEventListener("htmx:timeout", function () { show(OFFLINE); });
  document.addEventListener("click", function (e) {
    var close = e.target.closest(".flash-request-error .flash-close");
    if (close) close.closest(".flash-request-error").remove();
  });
})();
