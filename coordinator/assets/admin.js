// The admin pages' only script: keep the page live while jobs run (poll a
// cheap stamp, refetch the page's <main> when it changes) and close the
// side drawers on Escape.  Every page works without it.
(function () {
  "use strict";
  var main = document.getElementById("content");
  var dot = document.querySelector(".live");
  if (!main) return;
  var stamp = null, busy = false;

  // Do not swap the page under a person who is typing or reading a drawer.
  function idle() {
    var a = document.activeElement;
    if (a && main.contains(a) && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName)) return false;
    return !main.querySelector("details[open]");
  }

  function refresh() {
    busy = true;
    fetch(location.href, { headers: { "x-fragment": "1" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { main.innerHTML = html; main.dataset.refreshed = String(Date.now()); })
      .catch(function () {})
      .then(function () { busy = false; });
  }

  function poll() {
    fetch("/admin/live", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status === 401 || r.redirected) { location.reload(); throw new Error("signed out"); }
        return r.text();
      })
      .then(function (s) {
        if (dot) dot.classList.add("on");
        if (stamp !== null && s !== stamp && !busy && idle()) refresh();
        if (stamp === null || idle()) stamp = s;
      })
      .catch(function () { if (dot) dot.classList.remove("on"); })
      .then(function () { setTimeout(poll, 1000); });
  }
  poll();

  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    main.querySelectorAll("details[open]").forEach(function (d) { d.open = false; });
  });
  document.addEventListener("click", function (e) {
    main.querySelectorAll("details.drawer[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.open = false;
    });
  });
})();
