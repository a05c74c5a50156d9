/* The bulk test's progress page: polls the JSON view every second until the run is finished and
   updates the counts, the bar and the failures (text only, never markup from the server). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var page = document.querySelector(".pc-bulk");
    if (!page || !window.fetch) { return; }
    var url = page.getAttribute("data-progress-url");
    var state = document.getElementById("pc-bulk-state");
    var bar = document.getElementById("pc-bulk-bar");
    var list = document.getElementById("pc-bulk-failures");
    var none = document.getElementById("pc-bulk-no-failures");

    function show(progress) {
      ["done", "total", "passed", "failed", "not_tested"].forEach(function (name) {
        var field = page.querySelector('[data-field="' + name + '"]');
        if (field) { field.textContent = String(progress[name]); }
      });
      bar.max = progress.total;
      bar.value = progress.done;
      bar.textContent = interpolate(gettext("%(done)s / %(total)s"), progress, true);
      list.textContent = "";
      progress.failures.forEach(function (failure) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = failure.url;
        link.textContent = failure.name;
        item.appendChild(link);
        item.appendChild(document.createTextNode(": " + failure.sentence));
        list.appendChild(item);
      });
      none.hidden = progress.failures.length > 0;
      if (progress.finished) {
        state.setAttribute("data-finished", "true");
        state.textContent = state.getAttribute("data-finished-text") || gettext("Finished.");
      }
    }

    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (progress) {
          if (progress) { show(progress); }
          if (!progress || !progress.finished) { window.setTimeout(poll, 1000); }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    if (state.getAttribute("data-finished") !== "true") { window.setTimeout(poll, 500); }
  });
})();
