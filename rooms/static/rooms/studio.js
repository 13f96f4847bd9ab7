// What the studio shows a seat holder to go live from OBS or FFmpeg instead of this page.
// FFmpeg's command is the one the test suite runs (tests/browser/test_ffmpeg.py): change both.

import { gettext } from "./i18n.js";

function shellQuote(value) {
  return /^[A-Za-z0-9_\/:.=,@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export const CERT_COMMAND =
  "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj /CN=whip -keyout whip.key -out whip.crt";

// The command's arguments, each quoted for a POSIX shell.
export function ffmpegArgs(url, token) {
  const args = [
    "ffmpeg", "-re",
    "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
    "-c:v", "libx264", "-profile:v", "baseline", "-preset", "veryfast", "-tune", "zerolatency",
    "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p", "-b:v", "2500k",
    "-c:a", "libopus", "-ar", "48000", "-ac", "2", "-b:a", "128k",
    "-f", "whip", "-authorization", token, "-cert_file", "whip.crt", "-key_file", "whip.key",
    url,
  ];
  return args.map(shellQuote);
}

export function ffmpegCommand(url, token) {
  return ffmpegArgs(url, token).join(" ");
}

// Show a command so that it wraps between arguments, never inside one (a token stays whole).
export function showCommand(node, args) {
  node.replaceChildren();
  args.forEach((arg, index) => {
    if (index) node.append(" ");
    const part = document.createElement("span");
    part.className = "arg";
    part.textContent = arg;
    node.append(part);
  });
}

export function obsSettings(url, token) {
  return [
    [gettext("Settings → Stream → Service"), "WHIP"],
    [gettext("Server"), url],
    [gettext("Bearer Token"), token],
    [gettext("Output → Video Encoder"), gettext("x264 (H.264; OBS sends Opus audio over WHIP by itself)")],
    [gettext("Rate Control / Bitrate"), "CBR, 2500 Kbps"],
    [gettext("Keyframe Interval"), "1 s"],
    [gettext("Profile / Tune"), "baseline / zerolatency"],
  ];
}
