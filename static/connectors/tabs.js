/* Turns the change form's "pc-tab" fieldsets into tabs. Without JavaScript they stay stacked
   sections. The chosen tab survives a reload; a tab holding a field error opens and is marked. */
(function () {
  "use strict";

  function storageKey() { return "pc-tab:" + window.location.pathname; }

  function setup() {
    var fieldsets = Array.prototype.slice.call(document.querySelectorAll("fieldset.pc-tab"));
    if (fieldsets.length < 2) { return; }
    var list = document.createElement("div");
    list.className = "pc-tablist";
    list.setAttribute("role", "tablist");
    fieldsets[0].parentNode.insertBefore(list, fieldsets[0]);
    var tabs = fieldsets.map(function (fieldset, index) {
      var heading = fieldset.querySelector("h2, legend");
      var title = heading ? heading.textContent.trim() : interpolate(gettext("Tab %s"), [index + 1]);
      var id = "pc-tab-" + index;
      var button = document.createElement("button");
      button.type = "button";
      button.id = id;
      button.className = "pc-tab-button";
      button.setAttribute("role", "tab");
      button.setAttribute("aria-controls", id + "-panel");
      button.textContent = title;
      fieldset.id = id + "-panel";
      fieldset.setAttribute("role", "tabpanel");
      fieldset.setAttribute("aria-labelledby", id);
      if (fieldset.querySelector(".errorlist, .errors")) {
        button.classList.add("pc-tab-error");
        button.textContent = interpolate(gettext("%s (has errors)"), [title]);
      }
      list.appendChild(button);
      return { button: button, panel: fieldset, title: title };
    });

    function show(index, focus) {
      tabs.forEach(function (tab, i) {
        var active = i === index;
        tab.button.setAttribute("aria-selected", active ? "true" : "false");
        tab.button.tabIndex = active ? 0 : -1;
        tab.panel.hidden = !active;
      });
      if (focus) { tabs[index].button.focus(); }
      try { window.sessionStorage.setItem(storageKey(), tabs[index].title); } catch (e) { /* private mode */ }
    }

    tabs.forEach(function (tab, index) {
      tab.button.addEventListener("click", function () { show(index, false); });
      tab.button.addEventListener("keydown", function (event) {
        if (event.key === "ArrowRight") { show((index + 1) % tabs.length, true); event.preventDefault(); }
        if (event.key === "ArrowLeft") { show((index + tabs.length - 1) % tabs.length, true); event.preventDefault(); }
      });
    });

    var initial = 0;
    var withError = tabs.findIndex(function (tab) { return tab.button.classList.contains("pc-tab-error"); });
    // A link to "#oauth" (after Generate, from a row's Generate link) opens that tab.
    var named = window.location.hash ? tabs.findIndex(function (tab) {
      return tab.panel.classList.contains("pc-tab--" + window.location.hash.slice(1));
    }) : -1;
    if (withError >= 0) {
      initial = withError;
    } else if (named >= 0) {
      initial = named;
    } else {
      var saved = null;
      try { saved = window.sessionStorage.getItem(storageKey()); } catch (e) { saved = null; }
      var savedIndex = tabs.findIndex(function (tab) { return tab.title === saved; });
      if (savedIndex >= 0) { initial = savedIndex; }
    }
    show(initial, false);
    document.documentElement.classList.add("pc-tabs-ready");
  }

  document.addEventListener("DOMContentLoaded", setup);
})();
