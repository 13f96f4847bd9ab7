// The replay page: each seat's recorded files in one grid, in sync, with the live's comments and
// the Q&A spotlight at the time they happened. User text is only ever set with textContent.
//
// Sync: one clock. While some seat's file is playing, the clock is that file (the earliest seat
// playing: usually the host's): the others follow it, nudged by playbackRate when they drift more
// than NUDGE_AT, seeked when more than SEEK_AT. With nothing playing (every seat between files),
// the clock runs on the page's own timer.
//
// Removals: the page polls the timeline with If-None-Match every POLL_MS (a 304 while nothing
// changed); a comment removed meanwhile is gone from the next timeline, and from the page.

import { $, el, showSpotlight } from "./dom.js";
import { gettext, interpolate, ready } from "./i18n.js";

const fmt = interpolate;
await ready;

const root = $("replay");
const grid = $("grid");
const commentList = $("comments");
const seek = $("seek");
const playButton = $("play");

const NUDGE_AT = 0.04; // s of drift before a follower's speed is nudged
const SETTLED = 0.01; // s of drift at which it plays at the clock's speed again
const SEEK_AT = 0.5; // s of drift that is seeked rather than nudged
const NUDGE = 0.25; // the largest nudge: ±25 % of the speed
const TICK_MS = 100;
const POLL_MS = 5000;
const COMMENTS_SHOWN = 50;

let timeline = JSON.parse($("timeline-data").textContent);
let etag = root.dataset.etag;
let playing = false;
let rate = 1;
let position = 0; // s from the live's start, when `wallAt` was taken
let wallAt = performance.now();
let shownComments = -1; // comments[0..shownComments] are on the page
let lastTime = 0;
let gone = false; // the replay was deleted or made private meanwhile
let seeking = false; // the seek bar is being dragged

function clockText(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

function duration() {
  return timeline.duration;
}

// --- the seats' media ---------------------------------------------------------------------

// One <video> per recorded file (a seat with several periods has several), made once.
const players = [];

function buildPlayers() {
  for (const seat of timeline.seats) {
    const tile = grid.querySelector(`.tile[data-seat="${seat.index}"]`);
    if (!tile) continue;
    for (const track of seat.tracks) {
      const media = document.createElement("video");
      media.preload = "auto";
      media.playsInline = true;
      media.src = track.url;
      media.dataset.start = String(track.start);
      tile.prepend(media);
      players.push({ seat, tile, track, media, end: track.end });
    }
  }
}

function activeAt(player, t) {
  return t >= player.track.start && t < player.end;
}

// A file that holds less than its row says (its last frames came late): past its real end it
// stays on its last picture instead of being started again, and nobody waits for it.
function exhausted(player, t) {
  const length = player.media.duration;
  return Number.isFinite(length) && length > 0 && t - player.track.start >= length - 0.05;
}

function inPeriods(periods, t) {
  return (periods || []).some(([from, to]) => t >= from && (to === null || t < to));
}

// The clock: the master file while one plays, else the page's timer.
function master() {
  return players.find((p) => !p.media.paused && p.media.readyState >= 2 && activeAt(p, position));
}

function now() {
  if (!playing) return position;
  const lead = master();
  if (lead) {
    position = lead.track.start + lead.media.currentTime;
    wallAt = performance.now();
    return position;
  }
  const waiting = players.some((p) => activeAt(p, position) && !exhausted(p, position) && p.media.readyState < 3);
  if (!waiting) position += ((performance.now() - wallAt) / 1000) * rate;
  wallAt = performance.now();
  return position;
}

function syncPlayers(t) {
  const lead = playing ? master() : null;
  for (const player of players) {
    const { media } = player;
    if (!activeAt(player, t)) {
      if (!media.paused) media.pause();
      media.hidden = true;
      continue;
    }
    media.hidden = false;
    const want = t - player.track.start;
    const drift = media.currentTime - want;
    if (exhausted(player, t)) {
      if (!media.paused) media.pause();
      continue;
    }
    if (!playing) {
      if (!media.paused) media.pause();
      if (Math.abs(drift) > 0.05) media.currentTime = want;
      continue;
    }
    if (media.paused) {
      media.currentTime = want;
      media.playbackRate = rate;
      media.play().catch(playFailed);
      continue;
    }
    if (player === lead) {
      media.playbackRate = rate;
    } else if (Math.abs(drift) > SEEK_AT) {
      media.currentTime = want;
    } else if (Math.abs(drift) > NUDGE_AT) {
      media.playbackRate = rate * (1 - Math.max(-NUDGE, Math.min(NUDGE, drift * 2)));
    } else if (Math.abs(drift) < SETTLED) {
      media.playbackRate = rate;
    }
  }
}

function playFailed(error) {
  if (error && error.name === "AbortError") return; // a seek or a pause meanwhile
  setPlaying(false);
  showError(gettext("Your browser did not start the replay; press Play."));
}

// --- what the tiles show ---------------------------------------------------------------------

function renderTiles(t) {
  let visible = 0;
  let video = false;
  for (const seat of timeline.seats) {
    const tile = grid.querySelector(`.tile[data-seat="${seat.index}"]`);
    if (!tile) continue;
    const current = players.find((p) => p.seat.index === seat.index && activeAt(p, t));
    // Seat 0 (the host) always has a tile; a guest's shows while one of their periods plays.
    const shown = Boolean(current) || seat.index === 0;
    tile.hidden = !shown;
    if (!shown) continue;
    visible += 1;
    // No picture where the camera was off (or the file has no video): the live's placeholder.
    const cameraOff = !current || !current.track.has_video || inPeriods(seat.camera_off, t);
    const hasVideo = !cameraOff;
    tile.classList.toggle("has-video", hasVideo);
    video = video || hasVideo;
    const micOff = !current || !current.track.has_audio || inPeriods(seat.mic_off, t);
    tile.classList.toggle("muted", micOff);
    tile.querySelector(".mic-off").hidden = !micOff;
    tile.querySelector(".cam-off").hidden = !cameraOff || !current;
  }
  grid.dataset.count = String(visible || 1);
  grid.dataset.layout = video ? "video" : "audio";
}

function renderSpotlight(t) {
  let current = null;
  for (const entry of timeline.spotlights) {
    if (entry.at > t) break;
    current = entry.question;
  }
  showSpotlight(current);
}

function commentItem(comment) {
  const item = el("li");
  item.dataset.id = String(comment.id);
  item.dataset.at = String(comment.at);
  item.append(el("strong", `@${comment.user.username}`), document.createTextNode(" "), el("span", comment.text, "text"));
  return item;
}

// The comments posted up to `t`: appended as the replay plays; redrawn after a seek or a new timeline.
function renderComments(t, redraw = false) {
  const list = timeline.comments;
  let last = -1;
  while (last + 1 < list.length && list[last + 1].at <= t) last += 1;
  if (redraw || last < shownComments) {
    commentList.replaceChildren(...list.slice(Math.max(0, last - COMMENTS_SHOWN + 1), last + 1).map(commentItem));
  } else {
    for (let i = shownComments + 1; i <= last; i++) commentList.append(commentItem(list[i]));
    while (commentList.children.length > COMMENTS_SHOWN) commentList.firstElementChild.remove();
  }
  if (last !== shownComments || redraw) commentList.scrollTop = commentList.scrollHeight;
  shownComments = last;
  $("no-comments").hidden = last >= 0;
}

// --- hearts: floating as the replay passes the second they were sent, and as a strip ----------

let nextHeart = 0; // timeline.hearts[nextHeart] is the next second to float
let heartsAt = 0; // where the hearts were last floated up to

function floatHearts(total) {
  for (let i = 0; i < Math.min(total, 12); i++) {
    const heart = el("span", "♥", "float-heart");
    heart.style.left = `${10 + Math.random() * 80}%`;
    heart.style.animationDelay = `${i * 60}ms`;
    $("hearts").append(heart);
    setTimeout(() => heart.remove(), 2500);
  }
}

function renderHearts(to, redraw) {
  const list = timeline.hearts || [];
  const from = heartsAt;
  heartsAt = to;
  if (redraw || !playing || to < from || to - from > 1) {
    nextHeart = list.findIndex(([at]) => at > to);
    if (nextHeart < 0) nextHeart = list.length;
    return;
  }
  while (nextHeart < list.length && list[nextHeart][0] <= to) {
    const [at, hearts, others] = list[nextHeart];
    if (at > from) floatHearts(hearts + others);
    nextHeart += 1;
  }
}

function drawHeartStrip() {
  const svg = $("heart-strip");
  const bins = Math.max(1, Math.min(120, Math.ceil(duration())));
  const counts = new Array(bins).fill(0);
  for (const [at, hearts, others] of timeline.hearts || []) {
    counts[Math.min(bins - 1, Math.floor((at / Math.max(duration(), 1)) * bins))] += hearts + others;
  }
  const most = Math.max(...counts);
  svg.setAttribute("viewBox", `0 0 ${bins} 1`);
  svg.replaceChildren();
  if (!most) return;
  counts.forEach((count, i) => {
    if (!count) return;
    const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    const height = 0.15 + (0.85 * count) / most;
    rect.setAttribute("x", String(i));
    rect.setAttribute("y", String(1 - height));
    rect.setAttribute("width", "0.8");
    rect.setAttribute("height", String(height));
    svg.append(rect);
  });
}

function renderClock(t) {
  const text = clockText(t);
  $("clock").textContent = `${text} / ${clockText(duration())}`;
  if (document.activeElement !== seek || !seeking) seek.value = String(Math.floor(t));
  seek.setAttribute("aria-valuetext", fmt(gettext("%(time)s of %(total)s"), { time: text, total: clockText(duration()) }));
}

function render(t, redraw = false) {
  renderHearts(t, redraw);
  renderTiles(t);
  renderSpotlight(t);
  renderComments(t, redraw);
  renderClock(t);
}

// --- controls --------------------------------------------------------------------------------

function showError(text) {
  $("replay-error").textContent = text;
  $("replay-error").hidden = !text;
}

function setPlaying(on) {
  if (gone) on = false;
  if (on && position >= duration() - 0.05) position = 0; // at the end: from the start again
  now();
  playing = on;
  wallAt = performance.now();
  playButton.textContent = on ? gettext("Pause") : gettext("Play");
  playButton.setAttribute("aria-pressed", String(on));
  root.dataset.playing = on ? "1" : "";
  if (on) showError("");
  syncPlayers(position);
}

function seekTo(t) {
  now();
  position = Math.max(0, Math.min(duration(), t));
  wallAt = performance.now();
  for (const player of players) {
    if (activeAt(player, position)) player.media.currentTime = position - player.track.start;
  }
  syncPlayers(position);
  render(position, true);
}

playButton.addEventListener("click", () => setPlaying(!playing));
seek.addEventListener("input", () => {
  seeking = true;
  seekTo(Number(seek.value));
});
seek.addEventListener("change", () => {
  seeking = false;
});
$("speed").addEventListener("change", (event) => {
  now();
  rate = Number(event.target.value);
  for (const player of players) player.media.playbackRate = rate;
});

// Space or k: play/pause; j / l (or ←/→ outside the seek bar): 5 s back / on.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const tag = event.target.tagName;
  if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || tag === "BUTTON" || tag === "A") {
    if (!(tag === "INPUT" && event.target === seek && (event.key === " " || event.key === "k"))) return;
  }
  if (event.key === " " || event.key === "k") {
    event.preventDefault();
    setPlaying(!playing);
  } else if (event.key === "ArrowLeft" || event.key === "j") {
    event.preventDefault();
    seekTo(now() - 5);
  } else if (event.key === "ArrowRight" || event.key === "l") {
    event.preventDefault();
    seekTo(now() + 5);
  }
});

// --- keeping the timeline current -------------------------------------------------------------

async function poll() {
  if (gone) return;
  let wait = POLL_MS;
  try {
    const response = await fetch(root.dataset.timeline, {
      headers: { "If-None-Match": etag, Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    });
    if (response.status === 200) {
      etag = response.headers.get("ETag") || etag;
      timeline = await response.json();
      drawHeartStrip();
      render(now(), true);
    } else if (response.status === 429) {
      wait = Math.max(wait, Number(response.headers.get("Retry-After") || 5) * 1000);
    } else if (response.status === 403 || response.status === 404) {
      const body = await response.json().catch(() => ({}));
      gone = true;
      setPlaying(false);
      $("replay-status").textContent = body.message || gettext("This replay is no longer available.");
      return;
    }
  } catch {
    // offline for a moment: try again at the next poll
  }
  setTimeout(poll, wait);
}

function tick() {
  const t = now();
  if (playing && t >= duration()) {
    position = duration();
    setPlaying(false);
  }
  if (playing) syncPlayers(t);
  if (Math.abs(t - lastTime) > 0.05 || !playing) render(t);
  lastTime = t;
}

// --- the host's panel ----------------------------------------------------------------------

function csrfToken() {
  const input = document.querySelector("#replay-host input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

async function hostPost(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.message || `${response.status}`);
  return answer;
}

function renderPrivacy(isPrivate) {
  const button = $("toggle-private");
  button.textContent = isPrivate ? gettext("Make public") : gettext("Make private");
  button.setAttribute("aria-pressed", String(isPrivate));
  $("privacy-note").textContent = isPrivate
    ? gettext("Private: only you can watch it.")
    : gettext("Public: whoever could watch the live can watch it.");
}

function setUpHostPanel() {
  const panel = $("replay-host");
  if (!panel) return;
  const error = $("host-error");
  $("toggle-private").addEventListener("click", async () => {
    error.hidden = true;
    const want = $("toggle-private").getAttribute("aria-pressed") !== "true";
    try {
      const answer = await hostPost(panel.dataset.privateUrl, { private: want });
      renderPrivacy(Boolean(answer.private));
      $("host-status").textContent = answer.private ? gettext("The replay is private.") : gettext("The replay is public.");
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  });
  $("delete-replay").addEventListener("click", async () => {
    error.hidden = true;
    if (!window.confirm(gettext("Delete this replay for everyone? Its files are deleted and cannot be brought back."))) return;
    try {
      await hostPost(panel.dataset.deleteUrl, {});
      setPlaying(false);
      location.reload();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  });
}

setUpHostPanel();
buildPlayers();
drawHeartStrip();
render(0, true);
setInterval(tick, TICK_MS);
setTimeout(poll, POLL_MS);
root.dataset.ready = "1";

// For tests and the curious: the clock and each seat's file position, in seconds from the start.
window.replayClock = () => ({
  t: now(),
  playing,
  files: players.map((p) => ({ seat: p.seat.index, start: p.track.start, end: p.end, at: p.media.currentTime, paused: p.media.paused, ended: p.media.ended, ready: p.media.readyState })),
  seats: players
    .filter((p) => activeAt(p, position) && !p.media.paused)
    .map((p) => ({ seat: p.seat.index, at: p.track.start + p.media.currentTime, rate: p.media.playbackRate })),
});
