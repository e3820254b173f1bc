/* The search page: start Pagefind's UI (loaded just before this script) in #search and run
   the query given as ?q=... A site opened from file:// cannot load the index (browsers refuse
   fetch() there): the status line says so instead. */
(function () {
  "use strict";
  var box = document.getElementById("search");
  var status = document.getElementById("search-status");
  if (!box || !status) return;
  if (location.protocol === "file:") {
    status.hidden = false;
    status.textContent = "Search needs the site served over HTTP (invoke serve, or any web " +
      "server); opened from a file, the browser cannot read the search index.";
    return;
  }
  if (typeof PagefindUI !== "function") {
    status.hidden = false;
    status.textContent = "The search index is missing: this site was built without Pagefind.";
    return;
  }
  var ui = new PagefindUI({element: "#search", showImages: false, showSubResults: true});
  // Pagefind names its input by a title only: the page's heading names it (and is visible).
  var input = box.querySelector("input");
  if (input) input.setAttribute("aria-labelledby", "search-title");
  var query = new URLSearchParams(location.search).get("q");
  if (query) ui.triggerSearch(query);
})();
