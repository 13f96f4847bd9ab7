"""Offer handling around aiortc: which m-lines an offer has, and rejecting the ones we cannot use.

aiortc fails a whole offer when one audio/video m-line has no codec in common, and it cannot
answer a single m-line as rejected (port 0). So an m-line without a codec we relay (video: VP8,
or H.264 in packetization-mode 1 as OBS, FFmpeg and browsers send it; audio: Opus) is cut out of
the offer before aiortc sees it and put back into aiortc's answer as a rejected m-line
(RFC 8843 / JSEP: port 0, no BUNDLE).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiortc import sdp as aiortc_sdp

#: codecs we relay per kind (lower-case mime subtype)
RELAY_CODECS = {"video": ("vp8", "h264"), "audio": ("opus",)}
CODEC_LABEL = {"video": "VP8 or H.264 (packetization-mode=1) video", "audio": "Opus audio"}


class OfferError(ValueError):
    """The offer cannot be used; the message says why."""


@dataclass(frozen=True)
class OfferedMedia:
    index: int  # m-line index in the offer
    kind: str  # "audio" | "video" | "application" | ...
    direction: str  # from the offerer's point of view
    mid: str | None
    usable: bool  # audio/video: carries our codec; other kinds: passed to aiortc as they are


@dataclass(frozen=True)
class Offer:
    media: list[OfferedMedia]
    sdp: str  # what aiortc gets: the offer without the rejected m-lines
    _sections: list[list[str]]  # the offer's m-sections (lines), in order

    @property
    def rejected(self) -> list[OfferedMedia]:
        return [m for m in self.media if not m.usable]

    def complete_answer(self, answer_sdp: str) -> str:
        """Put the rejected m-lines back into aiortc's answer, at their places in the offer."""
        if not self.rejected:
            return answer_sdp
        session, sections = _split(answer_sdp)
        for media in self.rejected:  # ascending index: each insert lands at its final place
            m_line = self._sections[media.index][0].split()
            rejected = [f"m={media.kind} 0 {m_line[2]} {' '.join(m_line[3:])}", "c=IN IP4 0.0.0.0"]
            if media.mid is not None:
                rejected.append(f"a=mid:{media.mid}")
            rejected.append("a=inactive")
            sections.insert(media.index, rejected)
        return _join(session, sections)


def _split(sdp_text: str) -> tuple[list[str], list[list[str]]]:
    session: list[str] = []
    sections: list[list[str]] = []
    for line in sdp_text.splitlines():
        if not line:
            continue
        if line.startswith("m="):
            sections.append([line])
        elif sections:
            sections[-1].append(line)
        else:
            session.append(line)
    return session, sections


def _join(session: list[str], sections: list[list[str]]) -> str:
    lines = session + [line for section in sections for line in section]
    return "\r\n".join(lines) + "\r\n"


def _relayable(kind: str, codec: Any) -> bool:
    name = str(codec.mimeType).split("/")[-1].lower()
    if name not in RELAY_CODECS[kind]:
        return False
    # H.264 in packetization-mode 0 (one NAL unit per packet) is not what aiortc speaks
    return name != "h264" or str(codec.parameters.get("packetization-mode", "0")) == "1"


def parse_offer(offer_sdp: str) -> Offer:
    """Parse `offer_sdp`; audio/video m-lines without VP8 / Opus are marked unusable (rejected).

    Raises OfferError when nothing usable is left.
    """
    if not isinstance(offer_sdp, str) or not offer_sdp.lstrip().startswith("v="):
        raise OfferError("not an SDP offer (must start with 'v=')")
    try:
        description = aiortc_sdp.SessionDescription.parse(offer_sdp)
    except Exception as exc:  # aiortc's parser raises assorted errors on malformed input
        raise OfferError(f"unparseable SDP: {exc}") from exc
    session, sections = _split(offer_sdp)
    if len(sections) != len(description.media):
        raise OfferError("unparseable SDP: m-lines could not be read")

    media: list[OfferedMedia] = []
    missing: list[str] = []
    for index, m in enumerate(description.media):
        kind: str = m.kind
        usable = True
        if kind in RELAY_CODECS:
            usable = any(_relayable(kind, codec) for codec in m.rtp.codecs) and m.port != 0
            if usable:
                if m.ice is None or not m.ice.usernameFragment or not m.ice.password:
                    raise OfferError(f"ICE username fragment or password missing (m-line {index})")
                if m.dtls is None or not m.dtls.fingerprints:
                    raise OfferError(f"DTLS fingerprint missing (m-line {index})")
            elif m.port != 0 and CODEC_LABEL[kind] not in missing:
                missing.append(CODEC_LABEL[kind])
        mid = m.rtp.muxId or None
        media.append(OfferedMedia(index, kind, str(m.direction or "sendrecv"), mid, usable))

    if not any(m.kind in RELAY_CODECS and m.usable for m in media):
        if missing:
            raise OfferError(f"no {', and no '.join(missing)} codec offered")
        raise OfferError("offer has no audio or video m-line (no VP8 video or Opus audio offered)")

    rejected_mids = {m.mid for m in media if not m.usable and m.mid is not None}
    kept_session = []
    for line in session:
        if line.startswith("a=group:BUNDLE") and rejected_mids:
            items = [item for item in line[len("a=group:BUNDLE") :].split() if item not in rejected_mids]
            line = "a=group:BUNDLE " + " ".join(items) if items else ""
        if line:
            kept_session.append(line)
    kept_sections = [section for section, m in zip(sections, media, strict=True) if m.usable]
    stripped = offer_sdp if not rejected_mids and len(kept_sections) == len(sections) else None
    return Offer(
        media=media,
        sdp=stripped if stripped is not None else _join(kept_session, kept_sections),
        _sections=sections,
    )


def screen_candidates(offer_sdp: str, *, keep: Callable[[str], bool], limit: int) -> tuple[str, int]:
    """The offer with only the ICE candidates the relay should try: those whose address passes
    `keep`, at most `limit` distinct ones (transport, address, port) in the whole offer (a bundled
    offer repeats its candidates in every m-section). Returns the offer and how many distinct
    candidates were dropped.

    A section that lost a candidate also loses its `a=end-of-candidates`: the relay then never
    declares ICE failed for want of candidates, and pairs with the client's address as its checks
    arrive (peer-reflexive, RFC 8445 §7.3.1.3), as an ICE-lite server would. A client must reach the
    relay's candidates anyway, so nothing it offered is needed for that.
    """
    session, sections = _split(offer_sdp)
    kept: set[tuple[str, str, str]] = set()
    dropped: set[tuple[str, str, str]] = set()
    changed = False
    for section in sections:
        lines: list[str] = []
        lost = False
        for line in section:
            if line.startswith("a=candidate:"):
                fields = line.split()
                if len(fields) < 8:
                    lost = True
                    continue
                key = (fields[2].lower(), fields[4].lower(), fields[5])
                if key in kept:
                    lines.append(line)
                    continue
                if key not in dropped and keep(fields[4]) and len(kept) < limit:
                    kept.add(key)
                    lines.append(line)
                    continue
                dropped.add(key)
                lost = True
                continue
            lines.append(line)
        if lost:
            lines = [line for line in lines if line != "a=end-of-candidates"]
            changed = True
        section[:] = lines
    return (_join(session, sections) if changed else offer_sdp), len(dropped)
