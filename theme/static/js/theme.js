/* Dark/light toggle. The inline script in <head> already applied a remembered choice;
   without one the page follows prefers-color-scheme through CSS. */
(function () {
  var root = document.documentElement;
  var query = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function current() {
    var chosen = root.getAttribute("data-theme");
    if (chosen === "dark" || chosen === "light") return chosen;
    return query && query.matches ? "dark" : "light";
  }

  function sync(button) {
    button.setAttribute("aria-pressed", current() === "dark" ? "true" : "false");
  }

  function init() {
    var button = document.querySelector(".theme-toggle");
    if (!button) return;
    sync(button);
    button.addEventListener("click", function () {
      var next = current() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { localStorage.setItem("theme", next); } catch (e) { /* private mode */ }
      sync(button);
    });
    if (query && query.addEventListener) {
      query.addEventListener("change", function () { sync(button); });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
