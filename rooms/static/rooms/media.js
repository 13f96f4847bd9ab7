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
  if (response.status !== 201) throw new Error(body || `HTTP ${response.status}`);
  await pc.setRemoteDescription({ type: "answer", sdp: body });
  return new URL(response.headers.get("Location"), location.href).href;
}

function endSession(url) {
  if (url) fetch(url, { method: "DELETE", keepalive: true }).catch(() => {});
}

// Watch every seat: `onTrack(seat, track)` for each of the 4 × (audio + video) slots. Slots of
// seats that start publishing later simply begin to carry media; no new offer is needed.
export async function watch(slug, onTrack) {
  const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  const slots = new Map();
  for (let seat = 0; seat < SEATS; seat++) {
    slots.set(pc.addTransceiver("audio", { direction: "recvonly" }), seat);
    slots.set(pc.addTransceiver("video", { direction: "recvonly" }), seat);
  }
  pc.addEventListener("track", (event) => onTrack(slots.get(event.transceiver), event.track));
  const session = await exchange(pc, `/rooms/${slug}/whep`, {});
  return {
    pc,
    close() {
      endSession(session);
      pc.close();
    },
  };
}

// Publish a camera/mic stream to your seat with its bearer token. Turning the camera or mic off
// replaces the track with null: nothing goes on the wire (the relay enforces it as well).
export async function publish(whip, stream) {
  const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  const [audioTrack] = stream.getAudioTracks();
  const [videoTrack] = stream.getVideoTracks();
  const audio = pc.addTransceiver(audioTrack || "audio", { direction: "sendonly", streams: [stream] });
  const video = pc.addTransceiver(videoTrack || "video", { direction: "sendonly", streams: [stream] });
  const vp8 = RTCRtpSender.getCapabilities("video").codecs.filter((c) => ["video/VP8", "video/rtx"].includes(c.mimeType));
  if (vp8.length) video.setCodecPreferences(vp8);
  const session = await exchange(pc, whip.url, { Authorization: `Bearer ${whip.token}` });
  return {
    pc,
    setCamera: (on) => video.sender.replaceTrack(on ? videoTrack || null : null),
    setMic: (on) => audio.sender.replaceTrack(on ? audioTrack || null : null),
    close() {
      endSession(session);
      pc.close();
    },
  };
}
