// Every <time datetime="…" data-format="…"> is shown in the viewer's own time zone and language.

const lang = document.documentElement.lang || undefined;
const formats = {
  datetime: { dateStyle: "medium", timeStyle: "short" },
  time: { timeStyle: "short" },
};

export function showTimes(root = document) {
  for (const node of root.querySelectorAll("time[datetime][data-format]")) {
    const when = new Date(node.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) {
      node.textContent = new Intl.DateTimeFormat(lang, formats[node.dataset.format] || formats.datetime).format(when);
      node.title = Intl.DateTimeFormat().resolvedOptions().timeZone;
    }
  }
}

showTimes();
