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
    let note = null; // a word on why the page is not updating

    // refresh fetches this page again and swaps its <main> in, unless the
    // person is filling in a form on it: then it tries again later.
    async function refresh() {
      pending = null;
      if (busy) { // one fetch at a time; this change comes after it
        pending = setTimeout(refresh, 250);
        return;
      }
      if (editing(main)) {
        showNote("Live updates wait until you finish the form.");
        pending = setTimeout(refresh, 2000);
        return;
      }
      showNote(null);
      busy = true;
      try {
        const resp = await fetch(location.href, { credentials: "same-origin", headers: { "X-Klaxon-Live": "1" } });
        if (resp.redirected && new URL(resp.url).pathname === "/login") {
          showNote("You were signed out: reload the page to sign in again.");
          return;
        }
        if (resp.redirected || !resp.ok) return; // a problem: keep what is shown
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

    // showNote shows text in a corner of the page; null takes it away.
    function showNote(text) {
      if (text && !note) {
        note = document.createElement("p");
        note.className = "live-note";
        note.setAttribute("role", "status");
        document.body.appendChild(note);
      }
      if (text) {
        note.textContent = text;
      } else if (note) {
        note.remove();
        note = null;
      }
    }

    let events = null;
    function connect() {
      events = new EventSource("/events");
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
    connect();

    // A tab left in the background lets go of its stream: without HTTP/2 a
    // browser keeps only six connections to a server, and a stream holds
    // one for good. Coming back reconnects, and the first event refreshes.
    let hiddenTimer = null;
    document.addEventListener("visibilitychange", function () {
      if (document.hidden) {
        hiddenTimer = setTimeout(function () {
          if (events) events.close();
          events = null;
          document.documentElement.removeAttribute("data-live-connected");
        }, 60000);
        return;
      }
      clearTimeout(hiddenTimer);
      if (!events) connect();
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
