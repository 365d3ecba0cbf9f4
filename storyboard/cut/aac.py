"""The film's AAC in fixed segments (issue 19), each kept in the chunk cache by the PCM it
encodes, joined packet by packet: an edit re-encodes only the segments whose sound it changed.

The film's frames of 1024 samples are cut on a fixed grid (:data:`SEGMENT_FRAMES` each, 3.2 s).
When no segment can be kept (a first cut, a new loudness gain, new music), the sound is encoded
whole, once, and its packets are kept as the segments. Segments made again are encoded by runs:
each run of neighbouring segments in one encode, from :data:`PRE_ROLL_FRAMES` before its first
segment to :data:`POST_ROLL_FRAMES` after its last (the encoder warms up on sound whose packets
are then dropped, and looks one frame ahead), the runs all at once (a long run cut into pieces
of :data:`MIN_RUN` segments or more, one per CPU); the first segment keeps the encoder's
priming packet, the last its final packets. So a change of a few seconds costs those seconds,
up to a segment more, and one pre-roll.

Why whole first, and a pre-roll of 3 s: ffmpeg's AAC encoder adapts its quantiser to its
bitrate frame by frame, carrying that state through the whole encode, so a stretch encoded
apart is coded differently from the whole encode after a join, and a cold start needs seconds
to settle. ``python bench/aac_joins.py --seconds 60 --joins 14`` (the film's settings, a join
every 4 s), the half-seconds after the joins, 5th percentile and worst: 26.3 and 21.9 dB SNR
with no pre-roll, 29.9 and 26.5 dB with 1 s, 31.6 and 26.6 dB with 2 s, 33.9 and 27.8 dB with
3 s, 35.3 and 34.6 dB with 4 s, 35.0 and 26.7 dB with 8.19 s; the whole encode's own
half-seconds anywhere: 33.6 and 31.4 dB. From 3 s the joins are coded as the whole encode codes
(the worst window is erratic at any pre-roll), and each second more is encoded again for every
run an edit touches. So the sound an edit did not touch stays the whole encode's, and a stretch
it changed is encoded with 3 s of warm-up.

A segment's key is the sha256 of the PCM its packets carry (its frames, two frames before them
and the post-roll: an AAC packet's window overlaps the frame before it), the filter chain (the
loudness gain), the codec settings and which packets it keeps; an edit re-encodes only the
segments whose sound it changed, as long as the loudness gain holds (``audio.linear_gain``).
The pre-roll is not in the key: it sets how well a segment is coded, not what it sounds like,
so a segment after a change is kept, and one encoded within a run or the whole encode (more
warm-up than its own pre-roll) is the same sound, coded at least as well.

The joined ADTS stream is muxed into an .m4a with the priming packet skipped by the edit list
and the last packet's duration cut to the sound's end, so the track is exactly as long as the
sound.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import struct
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from storyboard.errors import StoryboardError
from storyboard.files import write_error
from storyboard.media.ffmpeg import audio_codec_args, run_ffmpeg

from .chunks import ChunkCache, chunk_key
from .machine import allowed_cpus

RATE = 48000
FRAME = 1024  # samples per AAC frame
SEGMENT_FRAMES = 150  # 3.2 s
PRE_ROLL_FRAMES = 141  # 3.01 s (see above)
POST_ROLL_FRAMES = 2  # the encoder looks one frame ahead (window switching): none is 15-37 dB worse
MIN_RUN = 8  # segments (25.6 s) a run is cut into for parallel encoders: its pre-roll 12% more
SEGMENTED_FORMATS = ("MP4", "MOV")
SEGMENTED = f"segments {SEGMENT_FRAMES}/{PRE_ROLL_FRAMES}/{POST_ROLL_FRAMES}/runs"

Log = Callable[[str], None]

_PCM = 1
_FLOAT = 3
_EXTENSIBLE = 0xFFFE


@dataclass(frozen=True)
class WavInfo:
    """Where a WAV's samples are and what they are."""

    path: Path
    offset: int  # byte offset of the first sample
    size: int  # bytes of samples (whole sample frames)
    codec: str  # ffmpeg's raw format: s16le or f32le
    channels: int
    rate: int

    @property
    def block(self) -> int:
        return self.channels * (2 if self.codec == "s16le" else 4)

    @property
    def samples(self) -> int:
        return self.size // self.block


def read_wav(path: Path) -> WavInfo | None:
    """The RIFF header of a WAV (fmt and data chunks, any others skipped): None when it is not
    16-bit integer or 32-bit float PCM at the film's rate, or not a WAV."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            file_size = path.stat().st_size
            fmt: tuple[int, int, int, int] | None = None
            pos = 12
            while pos + 8 <= file_size:
                fh.seek(pos)
                cid, size = struct.unpack("<4sI", fh.read(8))
                if cid == b"fmt ":
                    body = fh.read(min(size, 40))
                    if len(body) < 16:
                        return None
                    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
                    if tag == _EXTENSIBLE and len(body) >= 26:
                        tag = struct.unpack("<H", body[24:26])[0]  # the subformat GUID's start
                    fmt = (tag, channels, rate, bits)
                elif cid == b"data":
                    if fmt is None:
                        return None
                    tag, channels, rate, bits = fmt
                    codec = {(_PCM, 16): "s16le", (_FLOAT, 32): "f32le"}.get((tag, bits))
                    if codec is None or rate != RATE or not 1 <= channels <= 8:
                        return None
                    start = pos + 8
                    avail = min(size, file_size - start)  # a size never written (0xFFFFFFFF)
                    block = channels * bits // 8
                    return WavInfo(path, start, avail - avail % block, codec, channels, rate)
                pos += 8 + size + (size & 1)
    except (OSError, struct.error):
        return None
    return None


@dataclass(frozen=True)
class Segment:
    """Film frames ``a`` to ``b`` kept, encoded from samples ``s`` to ``e`` (rolls included)."""

    a: int
    b: int
    s: int
    e: int
    last: bool

    @property
    def keep(self) -> tuple[int, int | None]:
        """The packets of its encode kept: packet j of an encode starting at frame s/FRAME holds
        that encode's frame j - 1 (the priming frame first); the first segment keeps the priming
        packet, the last every packet to the end."""
        first = self.s // FRAME
        j0 = 0 if self.a == 0 else self.a - first + 1
        return j0, None if self.last else self.b - first + 1

    @property
    def held(self) -> tuple[int, int]:
        """The samples its packets carry: its frames, the frame before (the first packet's
        window overlaps it) and the post-roll, with a frame's margin on the left as on the right.
        The pre-roll is not among them: it sets only how well the segment is coded."""
        return max(0, self.a - POST_ROLL_FRAMES) * FRAME, self.e


def plan(samples: int) -> list[Segment]:
    """The segments of a sound of ``samples`` samples."""
    frames = max(1, math.ceil(samples / FRAME))
    out = []
    for a in range(0, frames, SEGMENT_FRAMES):
        b = min(frames, a + SEGMENT_FRAMES)
        last = b == frames
        s = max(0, a - PRE_ROLL_FRAMES) * FRAME
        e = samples if last else min(samples, (b + POST_ROLL_FRAMES) * FRAME)
        out.append(Segment(a, b, s, e, last))
    return out


def segmentable(fmt: str, af: list[str]) -> bool:
    """Whether the film's sound is encoded in segments: AAC, and no filter or a constant gain
    (``loudnorm``, dynamic, carries state through the whole film)."""
    if fmt not in SEGMENTED_FORMATS:
        return False
    if not af:
        return True
    return len(af) == 2 and af[0] == "-af" and af[1].startswith("volume=")


def adts_frames(data: bytes) -> list[bytes]:
    """The ADTS frames of a raw AAC stream, header and all."""
    frames, i = [], 0
    while i + 7 <= len(data):
        if data[i] != 0xFF or data[i + 1] & 0xF6 != 0xF0:
            raise ValueError(f"no ADTS sync word at byte {i}")
        size = ((data[i + 3] & 3) << 11) | (data[i + 4] << 3) | (data[i + 5] >> 5)
        if size < 7 or i + size > len(data):
            raise ValueError(f"an ADTS frame at byte {i} runs past the end")
        frames.append(data[i : i + size])
        i += size
    if i != len(data):
        raise ValueError("trailing bytes after the last ADTS frame")
    return frames


def _pcm(wav: WavInfo, s: int, e: int) -> bytes:
    with open(wav.path, "rb") as fh:
        fh.seek(wav.offset + s * wav.block)
        return fh.read((e - s) * wav.block)


def _to_adts(
    inputs: list[str], chain: str | None, fmt: str, what: str, pcm: bytes | None = None
) -> list[bytes]:
    """The sound ffmpeg reads from ``inputs`` (``pcm`` on its stdin) through ``chain``, in the
    film's AAC: its ADTS frames, the encoder's priming packet first."""
    proc = run_ffmpeg(
        [*inputs, *(["-af", chain] if chain else []), *audio_codec_args(fmt), "-f", "adts"]
        + ["pipe:1"],
        what=what,
        input=pcm,
    )
    return adts_frames(proc.stdout)


def _kept(frames: list[bytes], seg: Segment) -> bytes:
    """The packets ``seg`` keeps of an encode of its stretch (``frames``)."""
    j0, j1 = seg.keep
    if j1 is not None and len(frames) < j1:
        raise StoryboardError(
            f"encoding the sound: the AAC encoder gave {len(frames)} packets, {j1} expected"
        )
    return b"".join(frames[j0:j1])


def _encode(wav: WavInfo, run: list[Segment], chain: str | None, fmt: str) -> list[bytes]:
    """The kept packets (raw ADTS) of each segment of ``run`` (neighbours), from one encode of
    their stretch with the first one's pre-roll and the last one's post-roll."""
    s, e = run[0].s, run[-1].e
    # ffmpeg reads the stretch from the file itself (a run may be most of the film: none of it
    # passes through this process's memory), cut to the sample by atrim
    raw = ["-f", wav.codec, "-ar", str(wav.rate), "-ac", str(wav.channels)]
    raw += ["-skip_initial_bytes", str(wav.offset + s * wav.block), "-i", str(wav.path)]
    cut = f"atrim=end_sample={e - s}" + (f",{chain}" if chain else "")
    what = f"encoding the sound ({run[0].a * FRAME / RATE:.2f} s on)"
    frames = _to_adts(raw, cut, fmt, what)
    return [_kept(frames, dataclasses.replace(seg, s=s)) for seg in run]


def runs(indices: list[int], encoders: int = 1) -> list[list[int]]:
    """``indices`` (ascending) in runs of consecutive numbers; a long run is cut into pieces
    (each :data:`MIN_RUN` segments or more, but the last) so that ``encoders`` share the work:
    an edit that moves everything after it (a trimmed scene) changes most of the film's
    segments, and one encode of them all would leave the other CPUs idle."""
    out: list[list[int]] = []
    for i in indices:
        if out and out[-1][-1] == i - 1:
            out[-1].append(i)
        else:
            out.append([i])
    size = max(MIN_RUN, -(-len(indices) // max(1, encoders)))
    return [run[k : k + size] for run in out for k in range(0, len(run), size)]


SAMPLING_INDEX = {96000: 0, 88200: 1, 64000: 2, 48000: 3, 44100: 4, 32000: 5, 24000: 6}


def _not_the_segment(path: Path, seg: Segment, channels: int) -> str | None:
    """Why a cached segment (its record intact) cannot be this segment's packets, or None: it
    must be ADTS frames of AAC-LC at the film's rate and channels, as many as the segment keeps
    (one per frame, and the priming packet in the first), else the joined track would be
    shorter or longer than the picture."""
    try:
        frames = adts_frames(path.read_bytes())
    except (OSError, ValueError) as e:
        return f"it is not the segment's AAC: {e}"
    want = seg.b - seg.a + (1 if seg.a == 0 else 0)
    if len(frames) != want:
        return f"it holds {len(frames)} AAC packets, the segment {want}"
    for f in frames:
        index, layout = (f[2] >> 2) & 0xF, ((f[2] & 1) << 2) | (f[3] >> 6)
        if f[2] >> 6 != 1 or index != SAMPLING_INDEX[RATE] or layout != channels:
            return "its packets are not AAC-LC at the film's rate and channels"
    return None


def _write(data: bytes, p: Path) -> None:
    write_sound(p, data, "encoding the sound")


def write_sound(p: Path, data: bytes, what: str) -> None:
    """``data`` written at ``p``; a failure says which step and which file (the chunk cache's,
    not the film's: hostile F3)."""
    try:
        p.write_bytes(data)
    except OSError as e:
        raise StoryboardError(f"{what}: {write_error(p, e)}") from None


def workers() -> int:
    """AAC encoders at once: the CPUs this process may use (``STORYBOARD_JOBS`` caps them)."""
    return allowed_cpus()


def segment_keys(wav: WavInfo, chain: str | None, fmt: str, segs: list[Segment]) -> list[str]:
    """Each segment's key in the chunk cache: the sha256 of the PCM its packets carry
    (:attr:`Segment.held`), the filter chain, the codec settings and the packets it keeps."""
    codec = audio_codec_args(fmt)
    keys = []
    for seg in segs:
        spec = {
            "pcm": hashlib.sha256(_pcm(wav, *seg.held)).hexdigest(),
            "format": [wav.codec, wav.channels, wav.rate],
            "af": chain,
            "codec": codec,
            "keep": list(seg.keep),
        }
        keys.append(chunk_key("sound-aac-segment", spec))
    return keys


def encode_segmented(
    wav: WavInfo, chain: str | None, fmt: str, dest: Path, cache: ChunkCache, log: Log | None = None
) -> Path:
    """The WAV's sound through ``chain`` (an ``-af`` filter, or None) into the film's AAC at
    ``dest`` (.m4a), its segments taken from or put in ``cache``."""
    segs = plan(wav.samples)
    keys = segment_keys(wav, chain, fmt, segs)

    def run_of(run: list[int]) -> list[Path]:
        parts = _encode(wav, [segs[i] for i in run], chain, fmt)
        return [
            cache.make(keys[i], "aac", partial(_write, b)) for i, b in zip(run, parts, strict=True)
        ]

    paths: dict[int, Path] = {}
    for i, k in enumerate(keys):
        # checked against its plan too: an entry of another length, rate or layout (a forgery
        # its record cannot see) is made again. Another segment's packets of the same shape,
        # put there with a record rewritten to match, are not detected: that takes decoding
        # every kept segment on every compose
        found = cache.get(k, "aac", partial(_not_the_segment, seg=segs[i], channels=wav.channels))
        if found is not None:
            paths[i] = found
    missing = [i for i in range(len(segs)) if i not in paths]
    if len(missing) == len(segs) > 1:
        # nothing to keep (a first cut, a new gain, new music): one whole encode, the best the
        # encoder does, its packets kept as the segments (see above)
        if log is not None:
            log(f"sound: encoded whole, kept as {len(segs)} AAC segments")
        # ffmpeg reads the file itself: no film's worth of PCM through this process's memory
        inputs = ["-i", str(wav.path), "-map", "0:a:0"]
        whole = _to_adts(inputs, chain, fmt, "encoding the sound")
        for i, seg in enumerate(segs):  # each kept as if its own encode started at 0
            part = _kept(whole, dataclasses.replace(seg, s=0))
            paths[i] = cache.make(keys[i], "aac", partial(_write, part))
    elif missing:
        todo = runs(missing, workers())
        if log is not None:
            n = f"{len(missing)} of {len(segs)}"
            log(f"sound: {n} AAC segment(s) to encode, in {len(todo)} run(s)")
        with ThreadPoolExecutor(min(workers(), len(todo))) as pool:
            for run, made in zip(todo, pool.map(run_of, todo), strict=True):
                paths.update(zip(run, made, strict=True))
    join(wav.samples, [paths[i].read_bytes() for i in range(len(segs))], dest)
    return dest


def join(samples: int, parts: list[bytes], dest: Path) -> None:
    """The segments' packets, concatenated, in an .m4a: the priming packet skipped by the edit
    list, the last packet's duration cut so the track is ``samples`` long."""
    raw = b"".join(parts)
    packets = len(adts_frames(raw))
    last = packets - 1  # the priming packet is packet 0
    tail = samples - (last - 1) * FRAME  # samples of the last packet that are sound
    bsf = []
    if 0 < tail < FRAME:
        bsf = ["-bsf:a", f"setts=duration=if(eq(N\\,{last})\\,DURATION*{tail}/{FRAME}\\,DURATION)"]
    run_ffmpeg(
        ["-itsoffset", f"{-FRAME / RATE:.9f}", "-f", "aac", "-i", "pipe:0", "-c", "copy"]
        + bsf
        + ["-f", "ipod", str(dest)],
        what="joining the sound",
        input=raw,
    )
