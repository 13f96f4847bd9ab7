// The room page: everything on it follows the room's websocket. User text is only ever set
// with textContent (never innerHTML), so a comment can't carry markup or script.
// Strings go through Django's JSON catalogue (i18n.js); times show in the viewer's time zone.

import { $, el, showSpotlight } from "./dom.js";
import { gettext, interpolate, ngettext, ready } from "./i18n.js";
import { publish, watch } from "./media.js";
import { CERT_COMMAND, ffmpegArgs, ffmpegCommand, obsSettings, showCommand } from "./studio.js";
import { RoomSocket } from "./socket.js";
import { showTimes } from "./times.js";

const fmt = interpolate;
await ready;

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
let questions = new Map(); // open questions by id
let myVotes = new Set(); // the open questions this user voted for
let heldQueue = new Map(); // for the host and moderators: comments waiting for review
let siteModerator = false; // a moderator everywhere, not only named in this room
let wantFresh = false; // the next reconnect asks for a fresh room.state (a new role)
let slowUntil = 0; // slow mode: when this user may comment again (ms)
let tick = null; // the countdown's (and a timeout's end) timer
let speaking = new Set(); // the seats the relay hears talking now (`speaking` frames)
const recSwitch = $("toggle-recording"); // the host's switch; absent when the site does not record
let recording = Boolean($("rec-badge") && !$("rec-badge").hidden); // the room records now (page, room.state, `recording` frames)

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

function isReviewer() {
  return state && (state.you.role === "host" || state.you.role === "moderator");
}

function meId() {
  return state && state.you.user ? state.you.user.id : null;
}

const lang = document.documentElement.lang || undefined;

// When a timeout ends, in this person's time zone (the date too when it is not today).
function formatUntil(iso) {
  const when = new Date(iso);
  const today = when.toDateString() === new Date().toDateString();
  const style = today ? { timeStyle: "short" } : { dateStyle: "medium", timeStyle: "short" };
  return new Intl.DateTimeFormat(lang, style).format(when);
}

function formatSeconds(seconds) {
  if (seconds < 60) return fmt(gettext("%(seconds)s s"), { seconds });
  if (seconds < 3600) return fmt(gettext("%(minutes)s min"), { minutes: Math.round(seconds / 60) });
  return fmt(gettext("%(hours)s h"), { hours: Math.round(seconds / 3600) });
}

// "banned": undefined (not), null (for good) or when it ends; a past end no longer counts.
function bannedUntil() {
  if (!state || !("banned_until" in state.you)) return undefined;
  const until = state.you.banned_until;
  if (until && new Date(until).getTime() <= Date.now()) {
    delete state.you.banned_until;
    return undefined;
  }
  return until;
}

function startTicking() {
  if (tick === null) tick = setInterval(onTick, 1000);
}

function onTick() {
  const waiting = slowUntil > Date.now() || (state && state.you.banned_until);
  renderCommentBox();
  renderAsk();
  if (!waiting) {
    clearInterval(tick);
    tick = null;
  }
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
  tile.classList.toggle("muted", taken && !seat.mic);
  tile.querySelector(".mic-off").hidden = !taken || seat.mic;
  renderSpeaking(seat);
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
  renderLayout();
}

// Who is talking: a ring on the tile (on the avatar in an audio room) and a quiet "speaking" in
// its caption, so it is in the tile's name for a screen reader, never announced (it can change 5
// times a second). A seat with its mic off, or an empty one, never shows it.
function renderSpeaking(seat) {
  const on = speaking.has(seat.index) && seat.user !== null && seat.mic;
  const tile = tiles[seat.index];
  tile.classList.toggle("speaking", on);
  tile.querySelector(".speaking-label").hidden = !on;
}

// Every camera off, or nobody sending video: an audio room, with big avatars and names.
function renderLayout() {
  const video = tiles.some((tile) => !tile.hidden && tile.classList.contains("has-video"));
  $("grid").dataset.layout = video ? "video" : "audio";
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
  const banned = bannedUntil();
  let reason = "";
  if (!isLive()) reason = gettext("This live has ended.");
  else if (!signedIn) reason = gettext("Log in to comment");
  else if (banned === null) reason = gettext("You cannot comment in this live.");
  else if (banned) reason = fmt(gettext("You are timed out until %(time)s."), { time: formatUntil(banned) });
  else if (!state.room.comments_enabled) reason = gettext("The host turned comments off.");
  const usable = !reason && socket.ws.readyState === WebSocket.OPEN;
  const wait = Math.ceil((slowUntil - Date.now()) / 1000);
  input.disabled = !usable;
  $("comment-send").disabled = !usable || wait > 0;
  input.placeholder = usable ? gettext("Add a comment…") : reason || gettext("Connecting…");
  const box = $("comment-reason");
  if (!signedIn) return; // the server's "Log in to comment." link stays
  let note = reason;
  if (!note && wait > 0) note = fmt(gettext("Slow mode: you can comment again in %(seconds)s s."), { seconds: wait });
  else if (!note && state.room.slow_mode && !isReviewer()) {
    note = fmt(gettext("Slow mode: one comment every %(duration)s."), { duration: formatSeconds(state.room.slow_mode) });
  }
  box.textContent = note;
}

function renderRoom() {
  const live = isLive();
  $("room-title").textContent = state.room.title;
  root.dataset.status = state.room.status;
  renderBadge();
  renderRecording();
  $("toggle-comments").textContent = state.room.comments_enabled ? gettext("Turn comments off") : gettext("Turn comments on");
  renderCommentBox();
  renderPinned();
  renderAsk();
  renderQuestions();
  renderModeration();
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

// Recording: the "REC" dot everyone sees, and the host's switch saying the same (both absent
// when the site does not record).
function renderRecording() {
  const badge = $("rec-badge");
  if (badge) badge.hidden = !(recording && isLive());
  if (!recSwitch) return;
  recSwitch.textContent = recording ? gettext("Recording: on") : gettext("Recording: off");
  recSwitch.setAttribute("aria-pressed", String(recording));
}

async function switchRecording() {
  const box = $("host-error");
  clearError(box);
  recSwitch.disabled = true;
  try {
    const response = await fetch(recSwitch.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ enabled: !recording }),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.message || fmt(gettext("The server said %(status)s."), { status: response.status }));
    recording = Boolean(answer.enabled);
    renderRecording();
  } catch (error) {
    showError(box, error);
  } finally {
    recSwitch.disabled = false;
  }
}

function csrfToken() {
  return document.querySelector("#studio [name=csrfmiddlewaretoken]").value;
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
    // a stream that sends no video (OBS audio only, ffmpeg -vn): the camera comes on with video only
    const camera = $("toggle-camera");
    camera.disabled = Boolean(seat.audio_only);
    camera.title = seat.audio_only ? gettext("Your stream sends no video: publish with video to turn the camera on.") : "";
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
  const csrf = csrfToken();
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

function addComment(comment, { quiet = false, pending = false } = {}) {
  const existing = comments.querySelector(`[data-id="${comment.id}"]`);
  if (existing) {
    if (!pending && existing.classList.contains("pending")) {
      // approved: everyone sees it now
      existing.classList.remove("pending");
      existing.querySelector(".badge.pending")?.remove();
      addCommentTools(existing);
    }
    return;
  }
  const nearBottom = comments.scrollHeight - comments.scrollTop - comments.clientHeight < 40;
  const item = el("li");
  item.dataset.id = String(comment.id);
  item.dataset.user = comment.user.username;
  item.dataset.userId = String(comment.user.id);
  item.append(el("strong", `@${comment.user.username}`), document.createTextNode(" "), el("span", comment.text, "text"));
  if (pending) {
    item.classList.add("pending");
    item.append(document.createTextNode(" "), el("span", gettext("pending review"), "badge pending"));
  } else {
    addCommentTools(item);
  }
  comments.append(item);
  if (nearBottom) comments.scrollTop = comments.scrollHeight;
  if (!quiet && !pending) announce(comment);
}

// The host and moderators moderate each comment from the room: pin, remove, time its author out.
function addCommentTools(item) {
  item.querySelector(".ctools")?.remove();
  if (!isReviewer() || !isLive() || item.classList.contains("pending")) return;
  const name = `@${item.dataset.user}`;
  const hostId = state.room.host && state.room.host.id;
  const theirs = Number(item.dataset.userId) !== meId() && Number(item.dataset.userId) !== hostId;
  const tools = el("details", undefined, "ctools");
  const summary = el("summary", "⋯");
  summary.setAttribute("aria-label", fmt(gettext("Moderate %(name)s's comment"), { name }));
  const menu = el("div", undefined, "menu");
  const id = Number(item.dataset.id);
  const button = (text, onClick, className) => {
    const node = el("button", text, className);
    node.type = "button";
    node.addEventListener("click", onClick);
    menu.append(node);
    return node;
  };
  button(gettext("Pin"), () => act("comment.pin", { comment_id: id }), "secondary").dataset.act = "pin";
  if (theirs) {
    button(gettext("Remove"), () => act("comment.remove", { comment_id: id }), "danger").dataset.act = "remove";
    const choice = el("select");
    choice.setAttribute("aria-label", fmt(gettext("How long to time out %(name)s"), { name }));
    for (const [seconds, label] of [
      [60, gettext("1 min")],
      [600, gettext("10 min")],
      [3600, gettext("1 h")],
      [86400, gettext("24 h")],
    ]) {
      const option = el("option", label);
      option.value = String(seconds);
      choice.append(option);
    }
    menu.append(choice);
    const timeout = button(
      gettext("Time out"),
      async () => {
        const ack = await act("user.timeout", { username: item.dataset.user, seconds: Number(choice.value) });
        if (ack) {
          const status = el("span", fmt(gettext("Timed out until %(time)s."), { time: formatUntil(ack.until) }), "done");
          menu.querySelector(".done")?.remove();
          menu.append(status);
        }
      },
      "secondary",
    );
    timeout.dataset.act = "timeout";
    timeout.setAttribute("aria-label", fmt(gettext("Time out %(name)s"), { name }));
    // Lifting works whoever gave the timeout (another moderator, the admin); a ban for good stays.
    const lift = button(
      gettext("Lift timeout"),
      async () => {
        const ack = await act("user.timeout", { username: item.dataset.user, seconds: 0 });
        if (ack) {
          menu.querySelector(".done")?.remove();
          menu.append(el("span", gettext("Timeout lifted."), "done"));
        }
      },
      "secondary",
    );
    lift.dataset.act = "lift-timeout";
    lift.setAttribute("aria-label", fmt(gettext("Lift %(name)s's timeout"), { name }));
  }
  tools.append(summary, menu);
  item.append(document.createTextNode(" "), tools);
}

function renderCommentTools() {
  for (const item of comments.querySelectorAll("li[data-id]")) addCommentTools(item);
}

// --- the pinned comment, questions and the spotlight --------------------------------------

function renderPinned() {
  const pinned = state.room.pinned && !state.room.pinned.removed ? state.room.pinned : null;
  $("pinned").hidden = !pinned || !isLive();
  $("unpin").hidden = !isReviewer();
  if (!pinned) return;
  $("pinned-user").textContent = `@${pinned.user.username}`;
  $("pinned-text").textContent = pinned.text;
}

function myOpenQuestion() {
  return [...questions.values()].some((q) => q.user.id === meId());
}

function renderAsk() {
  if (!state) return;
  const signedIn = state.you.user !== null;
  const banned = bannedUntil();
  let reason = "";
  if (!isLive()) reason = gettext("This live has ended.");
  else if (!signedIn) reason = gettext("Log in to ask a question.");
  else if (!state.room.qa_enabled) reason = gettext("The host turned questions off.");
  else if (mySeat()) reason = gettext("You are on stage: questions are for viewers.");
  else if (banned === null) reason = gettext("You cannot comment in this live.");
  else if (banned) reason = fmt(gettext("You are timed out until %(time)s."), { time: formatUntil(banned) });
  else if (myOpenQuestion()) reason = gettext("You have a question waiting: you can ask another once it is answered.");
  const usable = !reason && socket.ws.readyState === WebSocket.OPEN;
  $("question-text").disabled = !usable;
  $("question-send").disabled = !usable;
  if (!signedIn) return; // the server's "Log in to ask a question." link stays
  $("question-reason").textContent = reason;
}

function sortedQuestions() {
  return [...questions.values()].sort((a, b) => b.votes - a.votes || a.created_at.localeCompare(b.created_at) || a.id - b.id);
}

function renderQuestions() {
  const list = $("questions");
  const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement : null;
  const focusKey = focused ? `${focused.closest("li")?.dataset.id}:${focused.dataset.act}` : null;
  list.replaceChildren();
  const spotlit = state.spotlight ? state.spotlight.id : null;
  const signedIn = state.you.user !== null;
  for (const question of sortedQuestions()) {
    const item = el("li");
    item.dataset.id = String(question.id);
    item.classList.toggle("spotlit", question.id === spotlit);
    const name = `@${question.user.username}`;
    const body = el("p", undefined, "question");
    body.append(el("strong", name), document.createTextNode(" "), el("span", question.text, "text"));
    const votes = el("span", fmt(ngettext("%(count)s vote", "%(count)s votes", question.votes), { count: question.votes }), "votes");
    const tools = el("div", undefined, "row");
    const button = (text, act, onClick, className = "secondary") => {
      const node = el("button", text, className);
      node.type = "button";
      node.dataset.act = act;
      node.addEventListener("click", onClick);
      tools.append(node);
      return node;
    };
    if (signedIn && question.user.id !== meId() && isLive()) {
      const voted = myVotes.has(question.id);
      const vote = button(gettext("Vote"), "vote", () => vote_(question.id, !voted), "vote");
      vote.setAttribute("aria-pressed", String(voted));
      vote.setAttribute("aria-label", fmt(gettext("Vote for %(name)s's question"), { name }));
    }
    if (isHost() && isLive()) {
      if (question.id === spotlit) button(gettext("Stop spotlight"), "spotlight", () => act("question.spotlight", { question_id: null }, $("question-error")));
      else button(gettext("Spotlight"), "spotlight", () => act("question.spotlight", { question_id: question.id }, $("question-error")));
      button(gettext("Answered"), "answered", () => act("question.answered", { question_id: question.id }, $("question-error")));
    }
    if (isReviewer() && isLive()) {
      button(gettext("Dismiss"), "dismiss", () => act("question.dismiss", { question_id: question.id }, $("question-error")), "danger");
    }
    if (question.id === spotlit) body.prepend(el("span", gettext("In the spotlight"), "badge live"), document.createTextNode(" "));
    item.append(body, votes, tools);
    list.append(item);
  }
  $("questions-empty").hidden = questions.size > 0;
  $("qa-count").textContent = questions.size ? `(${questions.size})` : "";
  if (focusKey) list.querySelector(`li[data-id="${focusKey.split(":")[0]}"] [data-act="${focusKey.split(":")[1]}"]`)?.focus();
  renderSpotlight();
}

function renderSpotlight() {
  const question = state.spotlight && !state.spotlight.removed && isLive() ? state.spotlight : null;
  showSpotlight(question);
}

async function vote_(questionId, up) {
  const ack = await act("question.vote", { question_id: questionId, up }, $("question-error"));
  if (!ack) return;
  if (up) myVotes.add(questionId);
  else myVotes.delete(questionId);
  const question = questions.get(questionId);
  if (question && typeof ack.votes === "number") question.votes = ack.votes;
  renderQuestions();
}

// --- moderation: the held queue, moderators, slow mode --------------------------------------

function renderModeration() {
  const live = isLive();
  $("mod-panel").hidden = !(isReviewer() && live);
  $("host-moderation").hidden = !isHost();
  $("toggle-qa").textContent = state.room.qa_enabled ? gettext("Turn questions off") : gettext("Turn questions on");
  const slow = $("slow-mode");
  const value = String(state.room.slow_mode || 0);
  if (![...slow.options].some((o) => o.value === value)) slow.append(Object.assign(el("option", formatSeconds(Number(value))), { value }));
  slow.value = value;
  const held = $("held");
  held.replaceChildren();
  for (const comment of heldQueue.values()) {
    const item = el("li");
    item.dataset.id = String(comment.id);
    const name = `@${comment.user.username}`;
    item.append(el("strong", name), document.createTextNode(" "), el("span", comment.text), document.createTextNode(" "));
    for (const [text, type, label] of [
      [gettext("Approve"), "held.approve", gettext("Approve %(name)s's comment")],
      [gettext("Reject"), "held.reject", gettext("Reject %(name)s's comment")],
    ]) {
      const button = el("button", text, type === "held.reject" ? "danger" : "");
      button.type = "button";
      button.dataset.act = type;
      button.setAttribute("aria-label", fmt(label, { name }));
      button.addEventListener("click", async () => {
        if (await act(type, { comment_id: comment.id }, $("mod-error"))) {
          heldQueue.delete(comment.id);
          renderModeration();
        }
      });
      item.append(button, document.createTextNode(" "));
    }
    held.append(item);
  }
  if (!heldQueue.size) held.append(el("li", gettext("Nothing waiting."), "muted"));
  const list = $("moderators");
  list.replaceChildren();
  for (const user of state.room.moderators || []) {
    const item = el("li", `@${user.username} `);
    const button = el("button", gettext("Remove"), "secondary");
    button.type = "button";
    button.setAttribute("aria-label", fmt(gettext("Stop %(name)s moderating"), { name: `@${user.username}` }));
    button.addEventListener("click", () => act("moderator.set", { username: user.username, on: false }, $("mod-error")));
    item.append(button);
    list.append(item);
  }
  if (!(state.room.moderators || []).length) list.append(el("li", gettext("Nobody yet."), "muted"));
}

// Named or un-named a moderator here: the page asks for a fresh room.state (the held queue).
function followModerators() {
  const id = meId();
  if (id === null || mySeat() || isHost()) return;
  const named = (state.room.moderators || []).some((user) => user.id === id);
  const role = state.you.role;
  if ((named && role === "viewer") || (!named && role === "moderator" && !siteModerator)) {
    state.you.role = named ? "moderator" : "viewer";
    if (!named) heldQueue.clear();
    renderCommentTools();
    wantFresh = true;
    socket.ws.close();
  }
}

function startSlowMode(seconds) {
  if (!seconds) return;
  slowUntil = Date.now() + seconds * 1000;
  renderCommentBox();
  startTicking();
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
      wantFresh = false;
      speaking = new Set(frame.speaking || []); // who talks as you join (then `speaking` frames)
      if ("recording" in frame) recording = Boolean(frame.recording);
      pendingRequests = new Map((frame.you.requests || []).map((u) => [u.id, u]));
      questions = new Map((frame.questions || []).map((q) => [q.id, q]));
      myVotes = new Set(frame.you.votes || []);
      heldQueue = new Map((frame.held || []).filter((c) => c.user.id !== meId()).map((c) => [c.id, c]));
      siteModerator = frame.you.role === "moderator" && !(frame.room.moderators || []).some((u) => u.id === meId());
      comments.replaceChildren();
      frame.comments.forEach((c) => addComment(c, { quiet: true }));
      (frame.you.held || []).forEach((c) => addComment(c, { quiet: true, pending: true }));
      comments.scrollTop = comments.scrollHeight;
      if (frame.you.banned_until) startTicking();
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
      renderAsk();
      break;
    case "seat.token":
      // your new seat's way to publish (after its seat.updated): Go live can work now
      state.you.whip = frame.whip;
      renderYou();
      break;
    case "comment.created":
      // a comment removed since comes redacted ({id, removed}) when replayed: nothing to show
      if (!frame.comment.removed) addComment(frame.comment);
      if (heldQueue.delete(frame.comment.id)) renderModeration();
      break;
    case "comment.removed":
      comments.querySelector(`[data-id="${frame.comment_id}"]`)?.remove();
      if (state.room.pinned && state.room.pinned.id === frame.comment_id) {
        state.room.pinned = null;
        renderPinned();
      }
      break;
    case "comment.held":
      // yours: shown to you alone, pending review; someone else's: the reviewers' queue
      if (frame.comment.user.id === meId()) addComment(frame.comment, { pending: true });
      else if (isReviewer()) {
        heldQueue.set(frame.comment.id, frame.comment);
        renderModeration();
      }
      break;
    case "comment.rejected":
      comments.querySelector(`li.pending[data-id="${frame.comment_id}"]`)?.remove();
      if (heldQueue.delete(frame.comment_id)) renderModeration();
      break;
    case "question.created":
      if (!frame.question.removed) questions.set(frame.question.id, frame.question);
      renderQuestions();
      renderAsk();
      break;
    case "question.updated":
      if (questions.has(frame.question_id)) {
        questions.get(frame.question_id).votes = frame.votes;
        renderQuestions();
      }
      break;
    case "question.spotlighted":
      state.spotlight = frame.question && !frame.question.removed ? frame.question : null;
      renderQuestions();
      break;
    case "question.closed":
      questions.delete(frame.question_id);
      myVotes.delete(frame.question_id);
      if (state.spotlight && state.spotlight.id === frame.question_id) state.spotlight = null;
      renderQuestions();
      renderAsk();
      break;
    case "user.timed_out":
      if (frame.until) state.you.banned_until = frame.until;
      else delete state.you.banned_until;
      renderCommentBox();
      renderAsk();
      startTicking();
      break;
    case "room.updated":
    case "room.ended":
      state.room = { ...state.room, ...frame.room };
      if (state.room.pinned && state.room.pinned.removed) state.room.pinned = null;
      renderRoom();
      state.seats.forEach(renderSeat);
      renderYou();
      if ("moderators" in frame.room) followModerators();
      if (frame.type === "room.ended") renderCommentTools();
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
    case "recording":
      recording = Boolean(frame.enabled);
      renderRecording();
      break;
    case "speaking":
      speaking = new Set(frame.seats);
      if (state) state.seats.forEach(renderSpeaking);
      break;
    case "error":
      showError($("comment-error"), frame);
      break;
  }
}

function onStatus(text) {
  $("connection").textContent = text;
  if (text && speaking.size) {
    // the connection dropped: who is speaking is no longer known (the next change says it again)
    speaking = new Set();
    if (state) state.seats.forEach(renderSpeaking);
  }
  if (state) {
    renderCommentBox();
    renderAsk();
  }
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

// Whether another seat's publisher sends media now (a camera that sends video, or a mic): then
// the relay sends this page bytes all the time, and their stopping means the connection died.
function sendsMedia() {
  const mine = mySeat();
  return Boolean(state) && state.seats.some(
    (seat) => seat.user !== null && seat.publishing && (!mine || mine.index !== seat.index) && ((seat.camera && !seat.audio_only) || seat.mic),
  );
}

function startWatching() {
  if (viewerMedia || !isLive()) return;
  watch(
    slug,
    (seat, track) => {
      streams[seat].getTracks().forEach((t) => t.kind === track.kind && streams[seat].removeTrack(t)); // watching again
      streams[seat].addTrack(track);
      showStream(seat);
    },
    sendsMedia,
  )
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
    // after an audio-only stream the seat's camera reads off until video comes: send it (the
    // server shows it only if the camera is on by your choice)
    await publisher.setCamera(seat.camera || Boolean(seat.audio_only));
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
  const box = $("comment-error");
  clearError(box);
  try {
    await socket.send("comment.post", { text });
    if (input.value.trim() === text) input.value = ""; // not what was typed since
    if (!isReviewer()) startSlowMode(state.room.slow_mode);
  } catch (error) {
    if (error.code === "rate_limited" && error.retry_after) startSlowMode(error.retry_after);
    else if (error.code === "banned") {
      state.you.banned_until = error.until ?? null;
      renderCommentBox();
      renderAsk();
      startTicking();
    } else showError(box, error);
  }
});
$("question-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("question-text");
  const text = input.value.trim();
  if (!text) return;
  if ((await act("question.ask", { text }, $("question-error"))) && input.value.trim() === text) input.value = "";
});
$("unpin").addEventListener("click", () => act("comment.pin", { comment_id: null }));
$("toggle-qa").addEventListener("click", () => act("qa.set", { enabled: !state.room.qa_enabled }, $("mod-error")));
$("slow-mode").addEventListener("change", () =>
  act("comments.set", { slow_mode: Number($("slow-mode").value) }, $("mod-error")),
);
$("moderator-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("moderator-name");
  const username = input.value.trim().replace(/^@/, "");
  if (await act("moderator.set", { username, on: true }, $("mod-error"))) input.value = "";
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
recSwitch?.addEventListener("click", switchRecording);
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
const socket = new RoomSocket(slug, { onFrame, onStatus, fresh: () => wantFresh || Boolean(mySeat() && !state.you.whip) });
