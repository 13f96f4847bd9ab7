// The admin's comment list during a live: polls how many comments the list (as filtered now)
// gained since the page loaded, says "N new comments", and "Show them" reloads the list keeping
// the moderator's place (the row they were reading stays where it was) and their ticked rows.
"use strict";

(() => {
  const banner = document.getElementById("new-comments");
  if (!banner) return;
  const key = `admin-live:${location.pathname}${location.search}`;
  const every = Number(banner.dataset.every) || 3000;
  const query = new URLSearchParams(location.search);
  query.set("_after", banner.dataset.after);

  const rows = () => [...document.querySelectorAll("#result_list tbody tr")];
  const idOf = (row) => row.querySelector('input[name="_selected_action"]')?.value;

  function say(count) {
    banner.hidden = count === 0;
    const text = count === 1 ? banner.dataset.one : banner.dataset.many.replace("{count}", String(count));
    const node = banner.querySelector(".count");
    if (node.textContent !== text) node.textContent = text;
  }

  async function poll() {
    try {
      const response = await fetch(`${banner.dataset.url}?${query}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) say((await response.json()).count);
    } catch {
      // the server is away for a moment: the next poll will tell
    }
    setTimeout(poll, every);
  }

  // Before reloading: the first row in view, where it is, and what is ticked.
  function remember() {
    const visible = rows().find((row) => row.getBoundingClientRect().bottom > banner.offsetHeight);
    const place = {
      anchor: visible ? idOf(visible) : null,
      top: visible ? visible.getBoundingClientRect().top : 0,
      after: banner.dataset.after,
      ticked: [...document.querySelectorAll('input[name="_selected_action"]:checked')].map((box) => box.value),
    };
    sessionStorage.setItem(key, JSON.stringify(place));
  }

  function restore() {
    const saved = sessionStorage.getItem(key);
    if (!saved) return;
    sessionStorage.removeItem(key);
    const place = JSON.parse(saved);
    for (const row of rows()) {
      const id = idOf(row);
      if (Number(id) > Number(place.after)) row.classList.add("new-comment");
      const box = row.querySelector('input[name="_selected_action"]');
      if (box && place.ticked.includes(id) && !box.checked) box.click(); // the admin's own counters follow
    }
    const anchor = rows().find((row) => idOf(row) === place.anchor);
    if (anchor) window.scrollBy(0, anchor.getBoundingClientRect().top - place.top);
    else window.scrollTo(0, 0); // the row left this page of the list: start from the newest
  }

  let ours = false;
  banner.querySelector("#show-new-comments").addEventListener("click", () => {
    remember();
    ours = true;
    history.scrollRestoration = "manual"; // the place is ours to restore, not the browser's
    location.reload();
  });
  // Any other reload (F5) or navigation: the browser's own scroll restoration again.
  window.addEventListener("beforeunload", () => {
    if (!ours) history.scrollRestoration = "auto";
  });
  if (document.readyState === "complete") restore();
  else window.addEventListener("load", restore);
  setTimeout(poll, every);
})();
