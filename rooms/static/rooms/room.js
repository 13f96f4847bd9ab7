// The room page: everything on it follows the room's websocket. User text is only ever set
// with textContent (never innerHTML), so a comment can't carry markup or script.

import { publish, watch } from "./media.js";
import { CERT_COMMAND, ffmpegCommand, obsSettings } from "./studio.js";
import { RoomSocket } from "./socket.js";

const $ = (id) => document.getElementById(id);
const root = $("room");
const slug = root.dataset.slug;
const tiles = [...document.querySelectorAll(".tile")];
const comments = $("comments");

let state = null; // the last room.state, kept current by events
let viewerMedia = null;
let publisher = null;
let localStream = null;
let pendingRequests = new Map();

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function initials(name) {
  return (name || "?").slice(0, 2).toUpperCase();
}

// --- rendering ---------------------------------------------------------------------------

function renderSeat(seat) {
  const tile = tiles[seat.index];
  const taken = seat.user !== null;
  tile.hidden = !taken;
  tile.querySelector(".name").textContent = taken ? `@${seat.user.username}` : "";
  tile.querySelector(".avatar").textContent = taken ? initials(seat.user.username) : "";
  const showVideo = taken && seat.publishing && seat.camera;
  tile.classList.toggle("has-video", showVideo);
  tile.querySelector(".mic-off").hidden = !taken || seat.mic;
  tile.querySelector(".cam-off").hidden = !taken || seat.camera;
  const hostTools = tile.querySelector(".host-tools");
  hostTools.hidden = !(isHost() && taken && seat.index !== 0 && state.room.status === "live");
  $("grid").dataset.count = String(state.seats.filter((s) => s.user !== null).length || 1);
}

function renderRoom() {
  const live = state.room.status === "live";
  $("room-title").textContent = state.room.title;
  $("live-badge").hidden = !live;
  $("ended").hidden = live;
  root.dataset.status = state.room.status;
  $("toggle-comments").textContent = state.room.comments_enabled ? "Turn comments off" : "Turn comments on";
  $("comment-text").disabled = !live || !state.room.comments_enabled;
  $("comment-text").placeholder = state.room.comments_enabled ? "Add a comment…" : "Comments are off";
  if (!live) stopMedia();
}

function renderYou() {
  const you = state.you;
  const mySeat = you.seat === null ? null : state.seats[you.seat];
  const live = state.room.status === "live";
  $("stage-controls").hidden = !(mySeat && live);
  $("host-panel").hidden = !(isHost() && live);
  $("request-join").hidden = !(you.role === "viewer" && live);
  $("offer").hidden = !(you.offer !== null && you.offer !== undefined && mySeat === null && live);
  if (you.whip) renderStudio(you.whip);
  if (mySeat) {
    $("toggle-camera").textContent = mySeat.camera ? "Camera off" : "Camera on";
    $("toggle-mic").textContent = mySeat.mic ? "Mic off" : "Mic on";
  }
  $("leave").hidden = you.role !== "guest";
  renderRequests();
}

function renderStudio(whip) {
  const url = new URL(whip.url, location.href).href;
  $("whip-url").textContent = url;
  $("whip-token").textContent = whip.token;
  $("cert-command").textContent = CERT_COMMAND;
  $("ffmpeg-command").textContent = ffmpegCommand(url, whip.token);
  const list = $("obs-settings");
  list.replaceChildren();
  for (const [name, value] of obsSettings(url, whip.token)) {
    const term = document.createElement("dt");
    term.textContent = name;
    const detail = document.createElement("dd");
    detail.textContent = value;
    list.append(term, detail);
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
    status.textContent = "New token. The old one no longer works.";
  } catch (error) {
    status.textContent = `Could not change the token: ${error.message || error}`;
  }
}

function renderRequests() {
  const list = $("requests");
  list.replaceChildren();
  for (const user of pendingRequests.values()) {
    const item = el("li", `@${user.username} `);
    const invite = el("button", "Invite");
    invite.type = "button";
    invite.addEventListener("click", () => act("seat.invite", { username: user.username }));
    item.append(invite);
    list.append(item);
  }
  if (!pendingRequests.size) list.append(el("li", "Nobody yet.", "muted"));
}

function addComment(comment) {
  if (comments.querySelector(`[data-id="${comment.id}"]`)) return;
  const nearBottom = comments.scrollHeight - comments.scrollTop - comments.clientHeight < 40;
  const item = el("li");
  item.dataset.id = String(comment.id);
  item.append(el("strong", `@${comment.user.username}`), document.createTextNode(" "), el("span", comment.text));
  comments.append(item);
  if (nearBottom) comments.scrollTop = comments.scrollHeight;
}

function floatHearts(counts) {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  for (let i = 0; i < Math.min(total, 12); i++) {
    const heart = el("span", "♥", "float-heart");
    heart.style.left = `${10 + Math.random() * 80}%`;
    heart.style.animationDelay = `${i * 60}ms`;
    $("hearts").append(heart);
    setTimeout(() => heart.remove(), 2500);
  }
}

function isHost() {
  return state && state.you.role === "host";
}

// --- websocket frames --------------------------------------------------------------------

function onFrame(frame) {
  switch (frame.type) {
    case "room.state":
      state = frame;
      pendingRequests = new Map((frame.you.requests || []).map((u) => [u.id, u]));
      comments.replaceChildren();
      frame.comments.forEach(addComment);
      $("viewers").textContent = `${frame.viewers} watching`;
      renderRoom();
      frame.seats.forEach(renderSeat);
      renderYou();
      startWatching();
      root.dataset.ready = "1"; // the page shows the live room (tests wait for this)
      break;
    case "seat.updated": {
      state.seats[frame.seat.index] = frame.seat;
      const mine = state.you.user && frame.seat.user && frame.seat.user.id === state.you.user.id;
      if (mine) {
        state.you.seat = frame.seat.index;
        if (state.you.role === "viewer") state.you.role = "guest";
        state.you.offer = null;
      } else if (state.you.seat === frame.seat.index) {
        state.you.seat = null; // left or removed: stop publishing
        if (state.you.role === "guest") state.you.role = "viewer";
        stopPublishing();
      }
      renderSeat(frame.seat);
      renderYou();
      if (mine && !state.you.whip) reconnectForToken();
      break;
    }
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
    case "seat.declined":
      break;
    case "reactions":
      floatHearts(frame.counts);
      break;
    case "viewers":
      $("viewers").textContent = `${frame.count} watching`;
      break;
    case "error":
      showError(frame);
      break;
  }
}

// A seat taken in this page's lifetime: a fresh room.state carries its publish token.
function reconnectForToken() {
  socket.lastSeq = null;
  socket.ws.close();
}

function showError(error) {
  const box = $("comment-error");
  box.textContent = error.message || error.code;
  box.hidden = false;
  setTimeout(() => (box.hidden = true), 5000);
}

async function act(type, fields) {
  try {
    return await socket.send(type, fields);
  } catch (error) {
    showError(error);
    return null;
  }
}

// --- media -------------------------------------------------------------------------------

function startWatching() {
  if (viewerMedia || state.room.status !== "live") return;
  const streams = tiles.map(() => new MediaStream());
  watch(slug, (seat, track) => {
    streams[seat].addTrack(track);
    const video = tiles[seat].querySelector("video");
    video.srcObject = streams[seat];
    video.play().catch(() => {});
  })
    .then((media) => (viewerMedia = media))
    .catch((error) => ($("connection").textContent = `Video unavailable: ${error.message}`));
}

function stopPublishing() {
  publisher?.close();
  publisher = null;
  localStream?.getTracks().forEach((t) => t.stop());
  localStream = null;
  $("preview").srcObject = null;
  $("go-live").disabled = false;
  $("publish-status").textContent = "";
}

function stopMedia() {
  stopPublishing();
  viewerMedia?.close();
  viewerMedia = null;
  tiles.forEach((tile) => (tile.querySelector("video").srcObject = null));
}

async function goLive() {
  $("go-live").disabled = true;
  $("publish-status").textContent = "Starting camera…";
  try {
    localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
    $("preview").srcObject = localStream;
    publisher = await publish(state.you.whip, localStream);
    const seat = state.seats[state.you.seat];
    await publisher.setCamera(seat.camera);
    await publisher.setMic(seat.mic);
    $("publish-status").textContent = "You are live.";
  } catch (error) {
    $("publish-status").textContent = `Could not go live: ${error.message || error}`;
    stopPublishing();
  }
}

async function toggle(kind) {
  const seat = state.seats[state.you.seat];
  const on = !seat[kind];
  if (publisher) await (kind === "camera" ? publisher.setCamera(on) : publisher.setMic(on));
  if (!(await act("seat.set", { [kind]: on })) && publisher) {
    await (kind === "camera" ? publisher.setCamera(!on) : publisher.setMic(!on));
  }
}

// --- controls ----------------------------------------------------------------------------

$("comment-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("comment-text");
  const text = input.value.trim();
  if (!text) return;
  if (await act("comment.post", { text })) input.value = "";
});
$("heart").addEventListener("click", () => {
  socket.cast("reaction.send", { kind: "heart" });
  floatHearts({ heart: 1 });
});
$("request-join").addEventListener("click", async () => {
  if (await act("seat.request")) $("request-status").textContent = "Asked the host.";
});
$("accept-offer").addEventListener("click", () => act("seat.accept"));
$("decline-offer").addEventListener("click", async () => {
  if (await act("seat.decline")) {
    state.you.offer = null;
    renderYou();
  }
});
$("go-live").addEventListener("click", goLive);
$("rotate-token").addEventListener("click", rotateToken);
$("toggle-camera").addEventListener("click", () => toggle("camera"));
$("toggle-mic").addEventListener("click", () => toggle("mic"));
$("leave").addEventListener("click", () => act("seat.leave"));
$("toggle-comments").addEventListener("click", () => act("comments.set", { enabled: !state.room.comments_enabled }));
$("end-live").addEventListener("click", () => {
  if (confirm("End this live for everyone?")) act("room.end");
});
$("invite-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("invite-name");
  if (await act("seat.invite", { username: input.value.trim() })) {
    pendingRequests.forEach((user, id) => user.username === input.value.trim() && pendingRequests.delete(id));
    input.value = "";
    renderRequests();
  }
});
for (const tile of tiles) {
  const index = Number(tile.dataset.seat);
  tile.querySelector('[data-act="mic-off"]').addEventListener("click", () => act("seat.set", { index, mic: false }));
  tile.querySelector('[data-act="camera-off"]').addEventListener("click", () => act("seat.set", { index, camera: false }));
  tile.querySelector('[data-act="remove"]').addEventListener("click", () => act("seat.remove", { index }));
}
$("unmute").addEventListener("click", () => {
  tiles.forEach((tile) => {
    const video = tile.querySelector("video");
    video.muted = false;
    video.play().catch(() => {});
  });
  $("unmute").hidden = true;
});
window.addEventListener("pagehide", stopMedia);

const socket = new RoomSocket(slug, { onFrame, onStatus: (text) => ($("connection").textContent = text) });
