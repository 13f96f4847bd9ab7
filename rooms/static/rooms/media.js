// WebRTC with the server's relay: WHEP to watch all four seats, WHIP to publish your own.

const SEATS = 4;
const ICE_GATHER_MS = 2000;

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ICE_GATHER_MS);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

async function exchange(pc, url, headers) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/sdp", ...headers },
    body: pc.localDescription.sdp,
  });
  const body = await response.text();
  if (response.status !== 201) throw Object.assign(new Error(body || `HTTP ${response.status}`), { status: response.status });
  await pc.setRemoteDescription({ type: "answer", sdp: body });
  return new URL(response.headers.get("Location"), location.href).href;
}

// ICE servers (STUN, and TURN with a fresh time-limited credential) from the endpoint's Link
// headers (RFC 9725 §4.6), asked with OPTIONS before the offer so that gathering can use them.
function parseIceLinks(header) {
  const servers = [];
  for (const match of header.matchAll(/<([^>]+)>;\s*rel="ice-server"([^<]*)/g)) {
    const params = {};
    for (const p of match[2].matchAll(/([\w-]+)="((?:[^"\\]|\\.)*)"/g)) params[p[1]] = p[2].replace(/\\(.)/g, "$1");
    const server = { urls: match[1] };
    if (params.username !== undefined) Object.assign(server, { username: params.username, credential: params.credential });
    servers.push(server);
  }
  return servers;
}

async function iceServers(url) {
  try {
    const response = await fetch(url, { method: "OPTIONS" });
    return parseIceLinks(response.headers.get("Link") || "");
  } catch {
    return [];
  }
}

function endSession(url) {
  if (url) fetch(url, { method: "DELETE", keepalive: true }).catch(() => {});
}

// How long a connection may stay "disconnected" before the page connects again, and the waits
// between attempts (doubling up to the last). Another process serves the room if this one died.
const DISCONNECTED_MS = 3000;
const RETRY_MS = [500, 1000, 2000, 4000, 8000];
// Answers that trying again will not change (the live ended, the seat is gone): stop retrying.
// Anything else (a dead server, 409 while the old session times out, 429, 503) is tried again.
const FINAL = new Set([400, 401, 403, 404, 415]);
// A watched connection whose media stops while the room says a seat sends some (its process died:
// the browser takes several seconds more to call it "disconnected") is made again after STALLED_MS.
const STALLED_MS = 2000;
const STALL_CHECK_MS = 500;

// Keep one peer connection up: `connect()` makes a new one (resolving to {pc, session}); when it
// fails, or stays disconnected for DISCONNECTED_MS, it is closed and connect() runs again, with
// back-off. A refusal that retrying will not change (403: the live ended) stops it.
// `expectsMedia()` (optional) says whether some seat sends media now: then a connection whose
// received bytes stopped growing for STALLED_MS, after media had come, is made again too.
function keepConnected(connect, firstPc, firstSession, expectsMedia = null) {
  let pc = firstPc;
  let session = firstSession;
  let closed = false;
  let timer = null;
  let attempt = 0;

  function watchState(current) {
    let since = null;
    current.addEventListener("connectionstatechange", () => {
      if (closed || current !== pc) return;
      const state = current.connectionState;
      if (state === "connected") {
        attempt = 0;
        since = null;
      } else if (state === "failed") {
        reconnect();
      } else if (state === "disconnected" && since === null) {
        since = Date.now();
        setTimeout(() => {
          if (current === pc && current.connectionState === "disconnected") reconnect();
        }, DISCONNECTED_MS);
      }
    });
  }

  function watchStall(current) {
    if (!expectsMedia) return;
    let bytes = 0;
    let changed = Date.now();
    const check = setInterval(async () => {
      if (closed || current !== pc) return clearInterval(check);
      let now = 0;
      try {
        (await current.getStats()).forEach((stat) => {
          if (stat.type === "inbound-rtp") now += stat.bytesReceived || 0;
        });
      } catch {
        return; // closed meanwhile
      }
      if (now !== bytes || current.connectionState !== "connected" || !expectsMedia()) {
        bytes = now;
        changed = Date.now();
      } else if (bytes > 0 && Date.now() - changed >= STALLED_MS && current === pc) {
        clearInterval(check);
        reconnect();
      }
    }, STALL_CHECK_MS);
  }

  function reconnect() {
    if (closed || timer) return;
    endSession(session);
    pc.close();
    const wait = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)];
    attempt += 1;
    timer = setTimeout(async () => {
      timer = null;
      if (closed) return;
      try {
        const next = await connect();
        if (closed) {
          endSession(next.session);
          next.pc.close();
          return;
        }
        ({ pc, session } = next);
        watchState(pc);
        watchStall(pc);
      } catch (error) {
        if (FINAL.has(error.status)) return;
        reconnect();
      }
    }, wait);
  }

  watchState(pc);
  watchStall(pc);
  return {
    get pc() {
      return pc;
    },
    close() {
      closed = true;
      clearTimeout(timer);
      endSession(session);
      pc.close();
    },
  };
}

// Watch every seat: `onTrack(seat, track)` for each of the 4 × (audio + video) slots. Slots of
// seats that start publishing later simply begin to carry media; no new offer is needed. If the
// connection is lost (the server went away), the page watches again: `onTrack` then gets the new
// tracks (the old ones have ended). `expectsMedia()`: see keepConnected.
export async function watch(slug, onTrack, expectsMedia = null) {
  async function connect() {
    const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", iceServers: await iceServers(`/rooms/${slug}/whep`) });
    const slots = new Map();
    for (let seat = 0; seat < SEATS; seat++) {
      slots.set(pc.addTransceiver("audio", { direction: "recvonly" }), seat);
      slots.set(pc.addTransceiver("video", { direction: "recvonly" }), seat);
    }
    pc.addEventListener("track", (event) => onTrack(slots.get(event.transceiver), event.track));
    try {
      return { pc, session: await exchange(pc, `/rooms/${slug}/whep`, {}) };
    } catch (error) {
      pc.close();
      throw error;
    }
  }
  const first = await connect();
  return keepConnected(connect, first.pc, first.session, expectsMedia);
}

// Publish a camera/mic stream to your seat with its bearer token. Turning the camera or mic off
// replaces the track with null: nothing goes on the wire (the relay enforces it as well). If the
// connection is lost (the server went away), the page publishes again, camera and mic as they are.
export async function publish(whip, stream) {
  const [audioTrack] = stream.getAudioTracks();
  const [videoTrack] = stream.getVideoTracks();
  const on = { camera: true, mic: true };
  let senders = null;
  async function connect() {
    const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", iceServers: await iceServers(whip.url) });
    const audio = pc.addTransceiver((on.mic && audioTrack) || "audio", { direction: "sendonly", streams: [stream] });
    const video = pc.addTransceiver((on.camera && videoTrack) || "video", { direction: "sendonly", streams: [stream] });
    const vp8 = RTCRtpSender.getCapabilities("video").codecs.filter((c) => ["video/VP8", "video/rtx"].includes(c.mimeType));
    if (vp8.length) video.setCodecPreferences(vp8);
    try {
      const session = await exchange(pc, whip.url, { Authorization: `Bearer ${whip.token}` });
      senders = { audio: audio.sender, video: video.sender };
      return { pc, session };
    } catch (error) {
      pc.close();
      throw error;
    }
  }
  const first = await connect();
  const connection = keepConnected(connect, first.pc, first.session);
  return {
    get pc() {
      return connection.pc;
    },
    setCamera(value) {
      on.camera = value;
      return senders.video.replaceTrack(value ? videoTrack || null : null);
    },
    setMic(value) {
      on.mic = value;
      return senders.audio.replaceTrack(value ? audioTrack || null : null);
    },
    close: () => connection.close(),
  };
}
