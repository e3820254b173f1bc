/* Parameter grids (fences with `#| params:`): the page holds each fence's default state;
   the controls swap in another state's outputs, fetched from its fragment file (written
   next to the figures at build time) and kept once loaded. Fences that share a parameter
   share its control. Where fragments cannot be fetched (a page opened from file://), the
   control area says so. No framework. */
(function () {
  "use strict";

  var URL_ATTRS = ["src", "href", "data", "poster"];
  var loaded = {}; /* fragment URL -> Promise of its HTML */

  function fetchText(url) {
    if (!loaded[url]) {
      loaded[url] = fetch(url).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      });
      loaded[url].catch(function () { delete loaded[url]; });
    }
    return loaded[url];
  }

  /* Fragment HTML -> nodes whose relative links name files beside the fragment. */
  function nodesFrom(html, base) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var all = template.content.querySelectorAll("*");
    for (var i = 0; i < all.length; i++) {
      URL_ATTRS.forEach(function (name) {
        var value = all[i].getAttribute(name);
        if (value && !/^(#|[a-z][a-z0-9+.-]*:|\/)/i.test(value)) {
          all[i].setAttribute(name, new URL(value, base).href);
        }
      });
      var srcset = all[i].getAttribute("srcset");
      if (srcset) {
        all[i].setAttribute("srcset", srcset.split(",").map(function (item) {
          var parts = item.trim().split(/\s+/);
          parts[0] = new URL(parts[0], base).href;
          return parts.join(" ");
        }).join(", "));
      }
    }
    return template.content;
  }

  /* Region names that repeat on the page ("Output") are numbered, as theme.js does at
     load: once more after a state is swapped in. */
  function numberRegions() {
    var regions = document.querySelectorAll("main [role=region][aria-label]");
    var byName = {};
    Array.prototype.forEach.call(regions, function (region) {
      var name = region.getAttribute("aria-label").replace(/ \d+$/, "");
      (byName[name] = byName[name] || []).push(region);
    });
    Object.keys(byName).forEach(function (name) {
      var same = byName[name];
      same.forEach(function (region, n) {
        region.setAttribute("aria-label", same.length < 2 ? name : name + " " + (n + 1));
      });
    });
  }

  function isSource(node) {
    return node.nodeType === 1 && (node.classList.contains("fence-source") ||
                                   node.classList.contains("fence-fold"));
  }

  function init(root) {
    var areas = root.querySelectorAll(".params-controls");
    var fences = root.querySelectorAll(".params-fence");
    if (!areas.length || !fences.length) return;
    var controls = {}; /* parameter name -> its control */
    Array.prototype.forEach.call(areas, function (area) {
      area.hidden = false;
      Array.prototype.forEach.call(area.querySelectorAll("[data-param]"), function (c) {
        controls[c.getAttribute("data-param")] = c;
      });
    });

    function say(control, text) {
      var area = control.closest(".params-controls");
      var status = area && area.querySelector(".params-status");
      if (status) status.textContent = text;
    }

    var views = Array.prototype.map.call(fences, function (fence) {
      var states = JSON.parse(fence.getAttribute("data-states") || "{}");
      var base = new URL(fence.getAttribute("data-src"), document.baseURI).href;
      var shownFence = fence.firstElementChild; /* <div class="fence ..."> */
      return {
        element: fence,
        fence: shownFence,
        className: shownFence ? shownFence.className : "",
        kids: shownFence ? Array.prototype.slice.call(shownFence.childNodes) : [],
        names: (fence.getAttribute("data-params") || "").split(" "),
        fallback: fence.getAttribute("data-default"),
        states: states,
        base: base,
        shown: fence.getAttribute("data-default"),
        wanted: null,
        url: function (id) { return new URL(states[id], base).href; }
      };
    });

    function stateOf(view) {
      return view.names.map(function (name) {
        return controls[name] ? controls[name].value : "0";
      }).join(",");
    }

    /* Show a state: the fence's children from the fragment, keeping the page's own
       source block (the code is the same in every state; it has its copy button). */
    function put(view, className, kids) {
      var source = view.kids.filter(isSource)[0];
      view.fence.className = className;
      view.fence.replaceChildren.apply(view.fence, kids.map(function (node) {
        return source && isSource(node) ? source : node;
      }));
      numberRegions();
    }

    function show(view, control) {
      var id = stateOf(view);
      view.wanted = id;
      if (id === view.shown || !view.fence) return;
      if (id === view.fallback) {
        view.element.removeAttribute("aria-busy");
        put(view, view.className, view.kids);
        view.shown = id;
        say(control, "");
        return;
      }
      if (!view.states[id]) return;
      var url = view.url(id);
      view.element.setAttribute("aria-busy", "true");
      fetchText(url).then(function (html) {
        if (view.wanted !== id) return; /* the reader moved on meanwhile */
        view.element.removeAttribute("aria-busy");
        var fresh = nodesFrom(html, url).firstElementChild;
        if (!fresh) throw new Error("empty fragment");
        put(view, fresh.className, Array.prototype.slice.call(fresh.childNodes));
        view.shown = id;
        say(control, "");
      }).catch(function () {
        if (view.wanted !== id) return;
        view.element.removeAttribute("aria-busy");
        say(control, location.protocol === "file:"
          ? "This state could not be loaded: browsers do not fetch files for a page " +
            "opened from disk. Serve the site (e.g. invoke preview) to change parameters."
          : "This state could not be loaded; the figure shown is for the values before.");
      });
    }

    function prefetch(view) {
      Object.keys(view.states).forEach(function (id) {
        fetchText(view.url(id)).catch(function () { /* said when it is asked for */ });
      });
    }

    Object.keys(controls).forEach(function (name) {
      var control = controls[name];
      var users = views.filter(function (v) { return v.names.indexOf(name) >= 0; });
      var values = JSON.parse(control.getAttribute("data-values") || "null");
      var output = control.parentNode.querySelector("output");
      var primed = false;
      function changed() {
        if (values) {
          var text = values[Number(control.value)];
          control.setAttribute("aria-valuetext", text);
          if (output) output.textContent = text;
        }
        users.forEach(function (view) { show(view, control); });
      }
      function warm() { /* the reader is about to move it: load its states now */
        if (primed || location.protocol === "file:") return;
        primed = true;
        users.forEach(prefetch);
      }
      control.addEventListener("input", changed);
      control.addEventListener("change", changed);
      control.addEventListener("focus", warm);
      control.addEventListener("pointerenter", warm);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
})();
