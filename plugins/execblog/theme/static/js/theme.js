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

/* Diagrams: a drawing never shrinks its text below 12 px (the inline SVG has a min-width,
   plugins/diagrams/svg.py), so on a narrow screen it scrolls sideways inside a focusable,
   named region, as code blocks do. Drawings the build did not wrap are wrapped here
   (before the code-block script below numbers the regions' names). */
(function () {
  function init() {
    var drawings = document.querySelectorAll("figure.diagram > svg");
    for (var i = 0; i < drawings.length; i++) {
      var svg = drawings[i];
      var box = document.createElement("div");
      box.className = "diagram-scroll";
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", "Diagram");
      svg.parentNode.insertBefore(box, svg);
      box.appendChild(svg);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

/* Code blocks: every code block (not an output's) is a focusable scrolling region with a
   copy button. Exec fences' source already has tabindex/role/aria-label from the build;
   Markdown's own blocks get them here, so without this script they still scroll, only
   not by keyboard. The button copies the code only: no line numbers, no console prompts
   (Pygments' .gp) or console output (.go). Names that repeat on a page ("Code", "Output")
   are numbered, so each region is one landmark of its own. */
(function () {
  var REGION_NAME = "Code";
  var SHOWN_MS = 2000;

  function codePre(block) {  // the code's <pre>, not a line-number column's
    var pres = block.querySelectorAll("pre");
    for (var i = 0; i < pres.length; i++) {
      if (!pres[i].closest(".linenos, .linenodiv")) return pres[i];
    }
    return null;
  }

  function codeText(pre) {
    var copy = pre.cloneNode(true);
    var skip = copy.querySelectorAll(".linenos, .lineno, .gp, .go, .copy-button");
    for (var i = 0; i < skip.length; i++) skip[i].remove();
    return copy.textContent.replace(/\n$/, "");
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.top = "-1000px";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    area.remove();
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  function statusRegion() {
    var status = document.querySelector(".copy-status");
    if (!status) {
      status = document.createElement("span");
      status.className = "copy-status";
      status.setAttribute("role", "status");
      document.body.appendChild(status);
    }
    return status;
  }

  function addButton(block, pre) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.setAttribute("aria-label", "Copy code");
    button.textContent = "Copy";
    var timer = null;
    button.addEventListener("click", function () {
      var text = codeText(pre);
      copyText(text).then(function () {
        button.textContent = "Copied";
        button.classList.add("copied");
        button.setAttribute("data-copied", text);
        statusRegion().textContent = "Code copied";
      }, function () {
        button.textContent = "Copy failed";
        statusRegion().textContent = "Could not copy the code";
      }).then(function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          button.textContent = "Copy";
          button.classList.remove("copied");
          statusRegion().textContent = "";
        }, SHOWN_MS);
      });
    });
    block.appendChild(button);
  }

  function numberRepeatedNames() {
    var regions = document.querySelectorAll("main [role=region][aria-label]");
    var byName = {};
    var i;
    for (i = 0; i < regions.length; i++) {
      var name = regions[i].getAttribute("aria-label");
      (byName[name] = byName[name] || []).push(regions[i]);
    }
    Object.keys(byName).forEach(function (name) {
      var same = byName[name];
      if (same.length < 2) return;
      for (var n = 0; n < same.length; n++) {
        same[n].setAttribute("aria-label", name + " " + (n + 1));
      }
    });
  }

  function init() {
    var blocks = document.querySelectorAll(".highlight");
    for (var i = 0; i < blocks.length; i++) {
      var block = blocks[i];
      if (block.closest(".fence-outputs") || block.querySelector(".copy-button")) continue;
      var pre = codePre(block);
      if (!pre) continue;
      if (!pre.hasAttribute("tabindex")) pre.setAttribute("tabindex", "0");
      if (!pre.hasAttribute("role")) pre.setAttribute("role", "region");
      if (!pre.hasAttribute("aria-label")) pre.setAttribute("aria-label", REGION_NAME);
      block.classList.add("has-copy");
      addButton(block, pre);
    }
    numberRepeatedNames();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
