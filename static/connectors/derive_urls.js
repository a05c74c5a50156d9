/* Makes the derived URL fields (e.g. Inverbis' Authorization and Access Token URLs) follow the
   fields they come from while the operator types. The derivation itself stays in Python
   (Provider.derive_urls, served by the admin's derive-urls/ view), so the rules live in one place.
   A URL field is only filled when it is blank or still holds the value derived before, so a URL
   the operator typed is never overwritten; it is marked "Custom", with a button that makes it
   follow its fields again. Without JavaScript the form fills blanks on save. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var config = document.getElementById("pc-derive");
    if (!config || !window.fetch) { return; }
    var form = config.closest("form");
    var targets = config.getAttribute("data-targets").split(" ").filter(Boolean);
    var sources = config.getAttribute("data-sources").split(" ").filter(function (name) {
      return name && targets.indexOf(name) < 0 && form.elements[name];
    });
    var sourceNames = config.getAttribute("data-source-label") || "";
    var previous = null; // what the server derived from the values before this change

    // "Custom": a URL that differs from what its fields derive no longer follows them.
    function mark(name) {
      var input = form.elements[name];
      if (!input || !input.parentNode) { return; }
      var id = "pc-custom-" + name;
      var note = document.getElementById(id);
      var custom = Boolean(previous && previous[name] && input.value !== "" && input.value !== previous[name]);
      if (!custom) {
        if (note) { note.hidden = true; }
        return;
      }
      if (!note) {
        note = document.createElement("div");
        note.id = id;
        note.className = "pc-custom-note";
        var badge = document.createElement("span");
        badge.className = "pc-custom-badge";
        badge.textContent = gettext("Custom");
        var text = document.createElement("span");
        text.textContent = sourceNames
          ? interpolate(gettext("This URL no longer follows %s."), [sourceNames]) + " "
          : gettext("This URL no longer follows the fields it is derived from.") + " ";
        var button = document.createElement("button");
        button.type = "button";
        button.className = "pc-follow-button";
        button.textContent = sourceNames
          ? interpolate(gettext("Follow %s again"), [sourceNames])
          : gettext("Follow them again");
        button.addEventListener("click", function () {
          if (previous && previous[name]) {
            input.value = previous[name];
            input.dispatchEvent(new Event("change", { bubbles: true }));
            mark(name);
            input.focus();
          }
        });
        note.appendChild(badge);
        note.appendChild(text);
        note.appendChild(button);
        input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + id).trim());
        input.parentNode.insertBefore(note, input.nextSibling);
      }
      note.hidden = false;
    }
    var sequence = 0;    // answers to older keystrokes are dropped
    var timer = null;

    function query() {
      var params = new URLSearchParams();
      sources.forEach(function (name) { params.set(name, form.elements[name].value); });
      return config.getAttribute("data-url") + "?" + params.toString();
    }

    function derive(apply) {
      var mine = ++sequence;
      return fetch(query(), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) {
          if (!answer || mine !== sequence) { return; }
          if (Object.keys(answer.errors || {}).length) { return; } // half-typed: keep the URLs
          if (apply) {
            targets.forEach(function (name) {
              var input = form.elements[name];
              if (!input || !(name in answer.urls)) { return; }
              var untouched = input.value === "" || (previous && input.value === previous[name]);
              if (untouched && input.value !== answer.urls[name]) {
                input.value = answer.urls[name];
                input.dispatchEvent(new Event("change", { bubbles: true }));
              }
            });
          }
          // Nothing derivable (say, the tenant was cleared): keep the old baseline so the URLs
          // follow again once the field is refilled.
          if (Object.keys(answer.urls).length) { previous = answer.urls; }
          targets.forEach(mark);
        })
        .catch(function () { /* offline or logged out: saving still derives blank URLs */ });
    }

    // On load: blank URLs get their defaults, and the values give the baseline (a URL equal to
    // what they derive counts as not typed by the operator).
    derive(true);
    targets.forEach(function (name) {
      if (form.elements[name]) { form.elements[name].addEventListener("input", function () { mark(name); }); }
    });
    sources.forEach(function (name) {
      form.elements[name].addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () { derive(true); }, 150);
      });
    });
  });
})();
