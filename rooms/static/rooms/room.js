// The room page: everything on it follows the room's websocket. User text is only ever set
// with textContent (never innerHTML), so a comment can't carry markup or script.
// Strings go through Django's JSON catalogue (i18n.js); times show in the viewer's time zone.

import { gettext, interpolate, ngettext, ready } from "./i18n.js";
import { publish, watch } from "./media.js";
import { CERT_COMMAND, ffmpegArgs, ffmpegCommand, obsSettings, showCommand } from "./studio.js";
import { RoomSocket } from "./socket.js";
import { showTimes } from "./times.js";

const fmt = interpolate;
await ready;

const $ = (id) => document.getElementById(id);
const root = $("room");
const slug = root.dataset.slug;
const tiles = [...document.querySelectorAll(".tile")];
const comments = $("comments");
const ownTools = $("own-tools");

let state = null; // the last room.state, kept current by events
let viewerMedia = null;
let publisher = null;
let localStream = null;
let starting = false; // Go live pressed, not yet live or failed
let soundOn = false; // a viewer tapped for sound
let pendingRequests = new Map();
const streams = tiles.map(() => new MediaStream()); // what WHEP brings, per seat
const ownHearts = []; // when this page sent hearts the server has not echoed back yet
const secrets = new Map(); // element id -> its real text, where the page shows a masked one

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function initials(name) {
  return (name || "?").slice(0, 2).toUpperCase();
}

// An error stays beside the control it belongs to until that control is tried again.
function showError(box, error) {
  box.textContent = (error && (error.message || error.code)) || String(error);
  box.hidden = false;
}

function clearError(box) {
  box.textContent = "";
  box.hidden = true;
}

async function act(type, fields, box) {
  if (box) clearError(box);
  try {
    return await socket.send(type, fields);
  } catch (error) {
    showError(box || $("comment-error"), error);
    return null;
  }
}

// --- rendering ---------------------------------------------------------------------------

function mySeat() {
  return state && state.you.seat !== null && state.you.seat !== undefined ? state.seats[state.you.seat] : null;
}

function isHost() {
  return state && state.you.role === "host";
}

function isLive() {
  return state && state.room.status === "live";
}

function renderSeat(seat) {
  const tile = tiles[seat.index];
  const taken = seat.user !== null;
  const mine = mySeat() && mySeat().index === seat.index;
  tile.hidden = !taken;
  tile.classList.toggle("mine", Boolean(mine));
  tile.querySelector(".name").textContent = taken ? `@${seat.user.username}` : "";
  tile.querySelector(".avatar").textContent = taken ? initials(seat.user.username) : "";
  const showVideo = taken && seat.camera && (mine ? Boolean(localStream) : seat.publishing);
  tile.classList.toggle("has-video", showVideo);
  tile.querySelector(".mic-off").hidden = !taken || seat.mic;
  tile.querySelector(".cam-off").hidden = !taken || seat.camera;
  const tools = tile.querySelector(".host-tools");
  tools.hidden = !(isHost() && taken && seat.index !== 0 && isLive());
  if (taken) {
    const name = `@${seat.user.username}`;
    const mute = tools.querySelector('[data-act="mic-off"]');
    mute.textContent = fmt(gettext("Mute %(name)s's mic"), { name });
    mute.hidden = !seat.mic;
    const camera = tools.querySelector('[data-act="camera-off"]');
    camera.textContent = fmt(gettext("Turn off %(name)s's camera"), { name });
    camera.hidden = !seat.camera;
    tools.querySelector('[data-act="remove"]').textContent = fmt(gettext("Remove %(name)s from the stage"), { name });
  }
  $("grid").dataset.count = String(state.seats.filter((s) => s.user !== null).length || 1);
}

function renderBadge() {
  const badge = $("live-badge");
  const onAir = state.seats.some((seat) => seat.user !== null && seat.publishing);
  badge.textContent = onAir ? gettext("LIVE") : gettext("Starting soon");
  badge.classList.toggle("live", onAir);
  badge.classList.toggle("soon", !onAir);
  root.dataset.onAir = onAir ? "1" : "";
}

function renderCommentBox() {
  const input = $("comment-text");
  const signedIn = state.you.user !== null;
  let reason = "";
  if (!isLive()) reason = gettext("This live has ended.");
  else if (!signedIn) reason = gettext("Log in to comment");
  else if (!state.room.comments_enabled) reason = gettext("The host turned comments off.");
  const usable = !reason && socket.ws.readyState === WebSocket.OPEN;
  input.disabled = !usable;
  $("comment-send").disabled = !usable;
  input.placeholder = usable ? gettext("Add a comment…") : reason || gettext("Connecting…");
  const box = $("comment-reason");
  if (!signedIn) return; // the server's "Log in to comment." link stays
  box.textContent = reason;
}

function renderRoom() {
  const live = isLive();
  $("room-title").textContent = state.room.title;
  root.dataset.status = state.room.status;
  renderBadge();
  $("toggle-comments").textContent = state.room.comments_enabled ? gettext("Turn comments off") : gettext("Turn comments on");
  renderCommentBox();
  if (!live) {
    stopMedia();
    showEnded();
  }
}

// Go live can be pressed only when it can work: on a live seat of yours, with its token, not
// already live or starting, in a browser that can use a camera here.
function renderGoLive() {
  const seat = mySeat();
  const canCapture = Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  const elsewhere = Boolean(seat && seat.publishing && !publisher && !starting); // another tab, OBS or FFmpeg
  const ready = Boolean(seat && isLive() && state.you.whip && !publisher && !starting && canCapture && !elsewhere);
  const button = $("go-live");
  button.disabled = !ready;
  button.hidden = Boolean(publisher);
  const status = $("publish-status");
  let waiting = "";
  if (!canCapture) waiting = gettext("This browser cannot use a camera on this page.");
  else if (elsewhere) waiting = gettext("Your seat is live from another tab or app.");
  else if (seat && !state.you.whip && !publisher) waiting = gettext("Getting your seat ready…");
  if (waiting) status.textContent = waiting;
  else if (status.dataset.waiting) status.textContent = "";
  status.dataset.waiting = waiting ? "1" : "";
}

function renderYou() {
  const you = state.you;
  const seat = mySeat();
  const live = isLive();
  $("stage-controls").hidden = !(seat && live);
  $("host-panel").hidden = !(isHost() && live);
  $("request-join").hidden = !((you.role === "viewer" || you.role === "moderator") && live);
  if (seat) {
    $("request-join").disabled = false; // a later "Request to join" after leaving asks anew
    $("request-status").textContent = "";
  }
  $("offer").hidden = !(you.offer !== null && you.offer !== undefined && seat === null && live);
  if (you.whip) renderStudio(you.whip);
  ownTools.hidden = !(seat && live);
  if (seat) {
    // moved only when the seat changes: moving a node drops the keyboard focus inside it
    if (ownTools.parentElement !== tiles[seat.index]) tiles[seat.index].append(ownTools);
    for (const kind of ["mic", "camera"]) $(`toggle-${kind}`).setAttribute("aria-pressed", String(seat[kind]));
  }
  $("leave").hidden = you.role !== "guest";
  $("end-live").hidden = you.role !== "host";
  // sound: viewers tap for it; broadcasters hear the others once they go live
  $("unmute").hidden = Boolean(seat) || !live;
  renderGoLive();
  renderRequests();
}

function renderStudio(whip) {
  const url = new URL(whip.url, location.href).href;
  const revealed = $("reveal-token").getAttribute("aria-pressed") === "true";
  $("whip-url").textContent = url;
  $("whip-token").textContent = whip.token;
  $("whip-token").hidden = !revealed;
  $("token-mask").hidden = revealed;
  showCommand($("cert-command"), CERT_COMMAND.split(" "));
  secrets.set("ffmpeg-command", ffmpegCommand(url, whip.token));
  showCommand($("ffmpeg-command"), ffmpegArgs(url, revealed ? whip.token : "•".repeat(12)));
  const list = $("obs-settings");
  list.replaceChildren();
  for (const [name, value] of obsSettings(url, revealed ? whip.token : "•".repeat(12))) {
    list.append(el("dt", name), el("dd", value));
  }
}

// A new bearer token: the old one stops working, and a stream still using it ends.
async function rotateToken() {
  const status = $("token-status");
  status.textContent = "";
  const csrf = document.querySelector("#studio [name=csrfmiddlewaretoken]").value;
  try {
    const response = await fetch(`/rooms/${slug}/whip/token`, { method: "POST", headers: { "X-CSRFToken": csrf } });
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
    state.you.whip = body;
    renderStudio(body);
    status.textContent = gettext("New token. The old one no longer works.");
  } catch (error) {
    status.textContent = fmt(gettext("Could not change the token: %(reason)s"), { reason: error.message || error });
  }
}

function renderRequests() {
  const list = $("requests");
  list.replaceChildren();
  for (const user of pendingRequests.values()) {
    const item = el("li", `@${user.username} `);
    const invite = el("button", gettext("Invite"));
    invite.type = "button";
    invite.setAttribute("aria-label", fmt(gettext("Invite %(name)s"), { name: `@${user.username}` }));
    invite.addEventListener("click", () => act("seat.invite", { username: user.username }, $("invite-error")));
    item.append(invite);
    list.append(item);
  }
  if (!pendingRequests.size) list.append(el("li", gettext("Nobody yet."), "muted"));
}

// --- comments and their announcements ----------------------------------------------------

const ANNOUNCE_EVERY_MS = 4000;
let unannounced = [];
let announceTimer = null;

// Screen readers hear new comments in batches (at most one announcement every 4 s), never
// each viewer-count change.
function announce(comment) {
  unannounced.push(comment);
  if (announceTimer === null) announceTimer = setTimeout(flushAnnouncements, ANNOUNCE_EVERY_MS);
}

function flushAnnouncements() {
  announceTimer = null;
  const batch = unannounced;
  unannounced = [];
  if (!batch.length) return;
  const last = batch[batch.length - 1];
  const latest = `@${last.user.username}: ${last.text}`;
  $("comment-announcer").textContent =
    batch.length === 1
      ? latest
      : fmt(ngettext("%(count)s new comment. Latest: %(latest)s", "%(count)s new comments. Latest: %(latest)s", batch.length), {
          count: batch.length,
          latest,
        });
}

function addComment(comment, { quiet = false } = {}) {
  if (comments.querySelector(`[data-id="${comment.id}"]`)) return;
  const nearBottom = comments.scrollHeight - comments.scrollTop - comments.clientHeight < 40;
  const item = el("li");
  item.dataset.id = String(comment.id);
  item.append(el("strong", `@${comment.user.username}`), document.createTextNode(" "), el("span", comment.text));
  comments.append(item);
  if (nearBottom) comments.scrollTop = comments.scrollHeight;
  if (!quiet) announce(comment);
}

function floatHearts(total) {
  for (let i = 0; i < Math.min(total, 12); i++) {
    const heart = el("span", "♥", "float-heart");
    heart.style.left = `${10 + Math.random() * 80}%`;
    heart.style.animationDelay = `${i * 60}ms`;
    $("hearts").append(heart);
    setTimeout(() => heart.remove(), 2500);
  }
}

// The server's tally includes this page's own hearts, which floated when tapped: skip those.
function floatTally(counts) {
  const now = Date.now();
  while (ownHearts.length && now - ownHearts[0] > 3000) ownHearts.shift(); // never echoed (rate limit)
  let hearts = counts.heart || 0;
  const own = Math.min(hearts, ownHearts.length);
  ownHearts.splice(0, own);
  hearts -= own;
  const others = Object.entries(counts).reduce((sum, [kind, n]) => (kind === "heart" ? sum : sum + n), 0);
  floatHearts(hearts + others);
}

function formatViewers(count) {
  $("viewers").textContent = fmt(ngettext("%(count)s watching", "%(count)s watching", count), { count });
}

// --- the ended page ----------------------------------------------------------------------

let endedShown = false;

// The live ended while the page was open: show the server's recap (duration, peak, comments,
// other lives), as a fresh load of the page would.
async function showEnded() {
  if (endedShown) return;
  endedShown = true;
  const box = $("ended");
  box.replaceChildren(el("p", gettext("This live has ended."), "ended-note"));
  box.hidden = false;
  try {
    const response = await fetch(location.href, { headers: { Accept: "text/html" } });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const recap = page.getElementById("ended");
    if (recap && recap.children.length) {
      box.replaceChildren(...[...recap.childNodes].map((node) => document.importNode(node, true)));
      showTimes(box);
    }
  } catch {
    // the short note stays
  }
}

// --- websocket frames --------------------------------------------------------------------

function gainedOrLost(seat) {
  const me = state.you.user;
  const mine = me && seat.user && seat.user.id === me.id;
  if (mine) {
    if (state.you.seat !== seat.index) state.you.seat = seat.index;
    if (state.you.role === "viewer" || state.you.role === "moderator") state.you.role = "guest";
    state.you.offer = null;
  } else if (state.you.seat === seat.index) {
    // left or removed: stop publishing; the token went with the seat
    state.you.seat = null;
    state.you.whip = null;
    if (state.you.role === "guest") state.you.role = "viewer";
    stopPublishing();
  }
}

function onFrame(frame) {
  switch (frame.type) {
    case "room.state":
      state = frame;
      pendingRequests = new Map((frame.you.requests || []).map((u) => [u.id, u]));
      comments.replaceChildren();
      frame.comments.forEach((c) => addComment(c, { quiet: true }));
      comments.scrollTop = comments.scrollHeight;
      formatViewers(frame.viewers);
      renderRoom();
      frame.seats.forEach(renderSeat);
      renderYou();
      startWatching();
      root.dataset.ready = "1"; // the page shows the live room (tests wait for this)
      break;
    case "seat.updated":
      state.seats[frame.seat.index] = frame.seat;
      gainedOrLost(frame.seat);
      renderSeat(frame.seat);
      renderBadge();
      renderYou();
      break;
    case "seat.token":
      // your new seat's way to publish (after its seat.updated): Go live can work now
      state.you.whip = frame.whip;
      renderYou();
      break;
    case "comment.created":
      // a comment removed since comes redacted ({id, removed}) when replayed: nothing to show
      if (!frame.comment.removed) addComment(frame.comment);
      break;
    case "comment.removed":
      comments.querySelector(`[data-id="${frame.comment_id}"]`)?.remove();
      break;
    case "room.updated":
    case "room.ended":
      state.room = { ...state.room, ...frame.room };
      renderRoom();
      state.seats.forEach(renderSeat);
      renderYou();
      break;
    case "seat.requested":
      pendingRequests.set(frame.user.id, frame.user);
      renderRequests();
      break;
    case "seat.offered":
      state.you.offer = frame.index;
      renderYou();
      break;
    case "reactions":
      floatTally(frame.counts);
      break;
    case "viewers":
      formatViewers(frame.count);
      break;
    case "error":
      showError($("comment-error"), frame);
      break;
  }
}

function onStatus(text) {
  $("connection").textContent = text;
  if (state) renderCommentBox();
}

// --- media -------------------------------------------------------------------------------

function showStream(seat) {
  const video = tiles[seat].querySelector("video");
  const own = mySeat() && mySeat().index === seat && localStream;
  const wanted = own ? localStream : streams[seat];
  if (video.srcObject !== wanted) video.srcObject = wanted;
  video.muted = own || !soundOn;
  video.play().catch(() => {});
}

function startWatching() {
  if (viewerMedia || !isLive()) return;
  watch(slug, (seat, track) => {
    streams[seat].addTrack(track);
    showStream(seat);
  })
    .then((media) => (viewerMedia = media))
    .catch((error) => ($("connection").textContent = fmt(gettext("Video unavailable: %(reason)s"), { reason: error.message })));
}

// Stops this page's publishing. It says nothing itself: a failure's reason stays on screen.
function stopPublishing() {
  const seat = mySeat();
  publisher?.close();
  publisher = null;
  localStream?.getTracks().forEach((t) => t.stop());
  localStream = null;
  delete root.dataset.publishing;
  $("publish-status").textContent = "";
  tiles.forEach((tile, index) => {
    if (tiles[index].querySelector("video").srcObject !== streams[index]) showStream(index);
  });
  if (state) {
    if (seat) renderSeat(seat);
    renderGoLive();
  }
}

function stopMedia() {
  stopPublishing();
  viewerMedia?.close();
  viewerMedia = null;
  tiles.forEach((tile) => (tile.querySelector("video").srcObject = null));
}

async function goLive() {
  const box = $("publish-error");
  clearError(box);
  starting = true;
  renderGoLive();
  $("publish-status").textContent = gettext("Starting camera…");
  try {
    localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
    const seat = mySeat();
    if (!seat || !state.you.whip) throw new Error(gettext("You are no longer on stage."));
    showStream(seat.index);
    $("publish-status").textContent = gettext("Connecting…");
    publisher = await publish(state.you.whip, localStream);
    await publisher.setCamera(seat.camera);
    await publisher.setMic(seat.mic);
    root.dataset.publishing = "1";
    $("publish-status").textContent = gettext("You are live.");
    // pressing Go live is the gesture browsers want: hear the others on stage
    soundOn = true;
    tiles.forEach((tile, index) => index !== seat.index && showStream(index));
  } catch (error) {
    starting = false;
    stopPublishing();
    showError(box, fmt(gettext("Could not go live: %(reason)s"), { reason: (error && error.message) || error }));
  } finally {
    starting = false;
    if (state) {
      renderGoLive();
      if (mySeat()) renderSeat(mySeat());
    }
  }
}

async function toggle(kind) {
  const seat = mySeat();
  if (!seat) return;
  const box = $("own-error");
  const on = !seat[kind];
  if (publisher) await (kind === "camera" ? publisher.setCamera(on) : publisher.setMic(on));
  if (!(await act("seat.set", { [kind]: on }, box)) && publisher) {
    await (kind === "camera" ? publisher.setCamera(!on) : publisher.setMic(!on));
  }
}

// --- controls ----------------------------------------------------------------------------

$("comment-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("comment-text");
  const text = input.value.trim();
  if (!text) return;
  if (await act("comment.post", { text }, $("comment-error"))) input.value = "";
});
$("heart").addEventListener("click", () => {
  socket.cast("reaction.send", { kind: "heart" });
  ownHearts.push(Date.now());
  floatHearts(1);
});
$("request-join").addEventListener("click", async () => {
  const status = $("request-status");
  status.textContent = "";
  try {
    await socket.send("seat.request");
    status.textContent = gettext("Asked the host.");
    $("request-join").disabled = true; // asked once; the host's invite comes as an offer
  } catch (error) {
    status.textContent = error.message || error.code;
  }
});
$("accept-offer").addEventListener("click", () => act("seat.accept", {}, $("offer-error")));
$("decline-offer").addEventListener("click", async () => {
  if (await act("seat.decline", {}, $("offer-error"))) {
    state.you.offer = null;
    renderYou();
  }
});
$("go-live").addEventListener("click", goLive);
$("rotate-token").addEventListener("click", rotateToken);
$("reveal-token").addEventListener("click", () => {
  const button = $("reveal-token");
  const revealed = button.getAttribute("aria-pressed") !== "true";
  button.setAttribute("aria-pressed", String(revealed));
  button.textContent = revealed ? gettext("Hide the token") : gettext("Show the token");
  if (state.you.whip) renderStudio(state.you.whip);
});
for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const id = button.dataset.copy;
    const text = secrets.get(id) || $(id).textContent;
    const status = $(id === "whip-token" ? "token-status" : "copy-status");
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = gettext("Copied.");
    } catch {
      status.textContent = gettext("Could not copy: select the text and copy it yourself.");
    }
  });
}
$("toggle-camera").addEventListener("click", () => toggle("camera"));
$("toggle-mic").addEventListener("click", () => toggle("mic"));
$("leave").addEventListener("click", () => act("seat.leave", {}, $("own-error")));
$("toggle-comments").addEventListener("click", () =>
  act("comments.set", { enabled: !state.room.comments_enabled }, $("host-error")),
);
$("end-live").addEventListener("click", () => {
  if (confirm(gettext("End this live for everyone?"))) act("room.end", {}, $("own-error"));
});
$("invite-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("invite-name");
  const name = input.value.trim();
  if (await act("seat.invite", { username: name }, $("invite-error"))) {
    pendingRequests.forEach((user, id) => user.username === name && pendingRequests.delete(id));
    input.value = "";
    renderRequests();
  }
});
for (const tile of tiles) {
  const index = Number(tile.dataset.seat);
  const box = tile.querySelector(".tool-error");
  tile.querySelector('[data-act="mic-off"]').addEventListener("click", () => act("seat.set", { index, mic: false }, box));
  tile
    .querySelector('[data-act="camera-off"]')
    .addEventListener("click", () => act("seat.set", { index, camera: false }, box));
  tile.querySelector('[data-act="remove"]').addEventListener("click", () => act("seat.remove", { index }, box));
}
$("unmute").addEventListener("click", () => {
  soundOn = !soundOn;
  const button = $("unmute");
  button.textContent = soundOn ? gettext("Turn sound off") : gettext("Tap for sound");
  tiles.forEach((tile, index) => showStream(index));
});
window.addEventListener("pagehide", stopMedia);

// A page on a seat without its token (a `seat.token` lost in a dropped connection) asks for a
// fresh room.state when it reconnects, instead of resuming.
const socket = new RoomSocket(slug, { onFrame, onStatus, fresh: () => Boolean(mySeat() && !state.you.whip) });
