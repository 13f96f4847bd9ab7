"""What a container needs to know about encoded frames, read from their headers (never decoded):
a VP8 key frame's size, an H.264 SPS's size, and the Opus frame that decodes to silence."""

from __future__ import annotations

from aiortc.codecs.h264 import H264Encoder

from media.h264 import NAL_SPS

# A 20 ms Opus frame (TOC: CELT-only, full band, 20 ms, one frame) whose payload decodes to silence
# (the frame WebRTC stacks send for comfort silence). Written where the mic was off.
OPUS_SILENCE = b"\xf8\xff\xfe"
OPUS_FRAME = 960  # samples at 48 kHz: 20 ms


def vp8_size(frame: bytes) -> tuple[int, int] | None:
    """(width, height) of a VP8 key frame (RFC 6386 §9.1), None for anything else."""
    if len(frame) < 10 or frame[0] & 0x01 or frame[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(frame[6:8], "little") & 0x3FFF
    height = int.from_bytes(frame[8:10], "little") & 0x3FFF
    return (width, height) if width and height else None


class _Bits:
    """An RBSP bit reader (emulation-prevention bytes removed), with Exp-Golomb codes."""

    def __init__(self, nal: bytes) -> None:
        self.data = nal.replace(b"\x00\x00\x03", b"\x00\x00")
        self.pos = 0

    def bit(self) -> int:
        byte = self.data[self.pos >> 3]  # IndexError past the end: a truncated SPS
        value = (byte >> (7 - (self.pos & 7))) & 1
        self.pos += 1
        return value

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = (value << 1) | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("bad Exp-Golomb code")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value & 1 else -(value // 2)


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = next_ = 8
    for _ in range(size):
        if next_:
            next_ = (last + bits.se() + 256) % 256
        last = next_ or last


def sps_size(sps: bytes) -> tuple[int, int] | None:
    """(width, height) from an H.264 SPS NAL unit (ITU-T H.264 §7.3.2.1.1), None if unreadable."""
    try:
        bits = _Bits(sps[1:])
        profile = bits.bits(8)
        bits.bits(16)  # constraint flags, level
        bits.ue()  # seq_parameter_set_id
        chroma = 1
        if profile in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
            chroma = bits.ue()
            if chroma == 3:
                bits.bit()
            bits.ue()
            bits.ue()
            bits.bit()
            if bits.bit():  # seq_scaling_matrix_present
                for index in range(8 if chroma != 3 else 12):
                    if bits.bit():
                        _skip_scaling_list(bits, 16 if index < 6 else 64)
        bits.ue()  # log2_max_frame_num
        order = bits.ue()
        if order == 0:
            bits.ue()
        elif order == 1:
            bits.bit()
            bits.se()
            bits.se()
            for _ in range(bits.ue()):
                bits.se()
        bits.ue()  # max_num_ref_frames
        bits.bit()
        width_mbs = bits.ue() + 1
        height_units = bits.ue() + 1
        frame_mbs_only = bits.bit()
        if not frame_mbs_only:
            bits.bit()
        bits.bit()  # direct_8x8_inference
        crop = (0, 0, 0, 0)
        if bits.bit():
            crop = (bits.ue(), bits.ue(), bits.ue(), bits.ue())
    except (IndexError, ValueError):
        return None
    crop_x = 2 if chroma in (1, 2) else 1
    crop_y = (2 if chroma == 1 else 1) * (2 - frame_mbs_only)
    width = width_mbs * 16 - crop_x * (crop[0] + crop[1])
    height = (2 - frame_mbs_only) * height_units * 16 - crop_y * (crop[2] + crop[3])
    return (width, height) if width > 0 and height > 0 else None


def h264_size(access_unit: bytes) -> tuple[int, int] | None:
    """(width, height) of an Annex B access unit that carries an SPS, else None."""
    for nal in H264Encoder._split_bitstream(access_unit):
        if nal and nal[0] & 0x1F == NAL_SPS:
            return sps_size(nal)
    return None


def video_size(codec: str, frame: bytes) -> tuple[int, int] | None:
    return vp8_size(frame) if codec == "vp8" else h264_size(frame)
