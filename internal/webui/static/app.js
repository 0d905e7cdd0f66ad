// Klaxon's only script. Pages work without it; it adds live updates (a
// page whose <main> has data-live reloads that <main> in place when
// /events says stored history moved on: an alert fired, was acked, an
// incident changed) and a copy button for a token shown once.
"use strict";
(function () {
  const main = document.getElementById("main");
  if (!main) return;
  addCopyButtons(main);
  if (main.hasAttribute("data-live") && window.EventSource) live(main);

  function live(main) {
    let pending = null;
    let busy = false;
    let paused = null; // the note shown while a form holds updates back

    // refresh fetches this page again and swaps its <main> in, unless the
    // person is filling in a form on it: then it tries again later.
    async function refresh() {
      pending = null;
      if (busy || editing(main)) {
        showPaused(true);
        pending = setTimeout(refresh, 2000);
        return;
      }
      showPaused(false);
      busy = true;
      try {
        const resp = await fetch(location.href, { credentials: "same-origin", headers: { "X-Klaxon-Live": "1" } });
        if (resp.redirected || !resp.ok) return; // signed out, or a problem: keep what is shown
        const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
        const fresh = doc.getElementById("main");
        if (fresh && !editing(main)) {
          main.replaceChildren(...fresh.childNodes);
          document.title = doc.title;
          addCopyButtons(main);
          main.dispatchEvent(new CustomEvent("klaxon:refreshed", { bubbles: true }));
        } else if (fresh) {
          pending = setTimeout(refresh, 2000); // they started typing meanwhile
        }
      } catch (e) {
        // The server is away; the next event will try again.
      } finally {
        busy = false;
      }
    }

    function showPaused(on) {
      if (on && !paused) {
        paused = document.createElement("p");
        paused.className = "live-paused";
        paused.setAttribute("role", "status");
        paused.textContent = "Live updates wait until you finish the form.";
        document.body.appendChild(paused);
      } else if (!on && paused) {
        paused.remove();
        paused = null;
      }
    }

    const events = new EventSource("/events");
    events.addEventListener("change", function () {
      if (!pending) pending = setTimeout(refresh, 250);
    });
    events.addEventListener("open", function () {
      document.documentElement.setAttribute("data-live-connected", "");
    });
    events.addEventListener("error", function () {
      document.documentElement.removeAttribute("data-live-connected");
    });
  }

  // editing reports whether the person is in a form field inside root, or
  // has changed one they left: swapping the page would lose their input.
  function editing(root) {
    const active = document.activeElement;
    if (active && root.contains(active) && active.matches("input, textarea, select")) return true;
    for (const el of root.querySelectorAll("input, textarea, select")) {
      if (el.type === "hidden" || el.type === "submit") continue;
      if (el.matches("select")) {
        if (changedSelect(el)) return true;
      } else if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked !== el.defaultChecked) return true;
      } else if (el.value !== el.defaultValue) {
        return true;
      }
    }
    return false;
  }

  // changedSelect reports whether a select's choice differs from the
  // page's. With no option marked selected, a single select starts on its
  // first option.
  function changedSelect(el) {
    const options = Array.from(el.options);
    if (el.multiple) return options.some(function (o) { return o.selected !== o.defaultSelected; });
    const initial = Math.max(0, options.findIndex(function (o) { return o.defaultSelected; }));
    return options.length > 0 && el.selectedIndex !== initial;
  }

  // addCopyButtons puts a Copy button after each token shown once.
  function addCopyButtons(root) {
    if (!navigator.clipboard) return;
    for (const code of root.querySelectorAll(".once code.token")) {
      if (code.nextElementSibling && code.nextElementSibling.matches("button.copy")) continue;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "copy";
      button.textContent = "Copy";
      button.addEventListener("click", async function () {
        try {
          await navigator.clipboard.writeText(code.textContent);
          button.textContent = "Copied";
        } catch (e) {
          button.textContent = "Select it and copy";
        }
      });
      code.after(" ", button);
    }
  }
})();
