// Klaxon's only script. Pages work without it; it adds live updates: a page
// whose <main> has data-live reloads that <main> in place when /events says
// stored history moved on (an alert fired, was acked, an incident changed).
"use strict";
(function () {
  const main = document.getElementById("main");
  if (!main || !main.hasAttribute("data-live") || !window.EventSource) return;

  let pending = null;
  let busy = false;

  // refresh fetches this page again and swaps its <main> in, unless the
  // person is typing in a form on it.
  async function refresh() {
    pending = null;
    const active = document.activeElement;
    if (busy || (active && main.contains(active) && active.matches("input, textarea, select"))) {
      pending = setTimeout(refresh, 2000);
      return;
    }
    busy = true;
    try {
      const resp = await fetch(location.href, { credentials: "same-origin", headers: { "X-Klaxon-Live": "1" } });
      if (resp.redirected || !resp.ok) return; // signed out, or a problem: keep what is shown
      const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
      const fresh = doc.getElementById("main");
      if (fresh) {
        main.replaceChildren(...fresh.childNodes);
        document.title = doc.title;
        main.dispatchEvent(new CustomEvent("klaxon:refreshed", { bubbles: true }));
      }
    } catch (e) {
      // The server is away; the next event will try again.
    } finally {
      busy = false;
    }
  }

  const events = new EventSource("/events");
  events.addEventListener("change", function () {
    if (!pending) pending = setTimeout(refresh, 250);
  });
  document.documentElement.setAttribute("data-live-connected", "");
  events.addEventListener("error", function () {
    document.documentElement.removeAttribute("data-live-connected");
  });
  events.addEventListener("open", function () {
    document.documentElement.setAttribute("data-live-connected", "");
  });
})();
