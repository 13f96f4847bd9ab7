"""A publisher that sends no video (OBS with audio only, `ffmpeg -vn`): its seat's camera shows off.

The WHIP offer says it: no usable video m-line (none at all, or only codecs the relay does not
take, which are answered as rejected). Once the relay has answered such an offer, the seat is
marked `audio_only` (rooms.seats.set_audio_only): its camera reads off on every screen (the
`seat.updated` every socket of the room gets), so a room of such publishers gets the audio
layout, and its holder cannot turn the camera on until they publish with video. The next offer
with video clears it: the camera then shows what its holder chose (on, unless they or the host
turned it off). A browser always offers a video m-line (a camera off is a track replaced by
nothing), so the room page's own publishing never marks a seat audio-only.
"""

from __future__ import annotations

import logging

from liverooms.db import db_async
from media.sdp import OfferError, parse_offer
from rooms import seats

logger = logging.getLogger(__name__)


def sends_video(offer_sdp: str) -> bool:
    """Whether a publish offer carries a video m-line the relay can use."""
    try:
        offer = parse_offer(offer_sdp)
    except OfferError:
        return False
    return any(media.kind == "video" and media.usable for media in offer.media)


async def published(*, room_id: int, index: int, user_id: int | None, offer_sdp: str) -> None:
    """The relay answered the offer of seat `index`'s holder: mark the seat audio-only or not.
    Never raises (the publisher is answered whatever happens here)."""
    if user_id is None:
        return
    try:
        await db_async(seats.set_audio_only)(
            room_id=room_id, index=index, user_id=user_id, audio_only=not sends_video(offer_sdp)
        )
    except Exception:
        logger.exception("room %s: could not record whether seat %s sends video", room_id, index)
