"""Writing summary.mp4: the selected shots of the source, in order, as H.264 (libx264) with the audio as AAC.

Only the selected frames are re-encoded. Each run of consecutive selected shots is reached by seeking to the
keyframe before it and decoding forward; frames are recognised by their timestamps, which decoding recorded, so the
summary holds exactly the source's frames (containers without timestamps are decoded from the start instead). The
audio of the same time spans is cut sample-accurately and interleaved with the video as it is written, so memory
stays flat however long the summary.
"""
import itertools
from contextlib import ExitStack, closing
from fractions import Fraction

import av
import numpy as np
from tqdm import tqdm

from common.errors import UserError
from inference.video.ahead import ahead
from inference.video.decode import av_reason, open_video

VIDEO_CODEC, CRF = "libx264", "20"
# libx264's presets, fastest first. The default favours speed: at 720p, ultrafast costs 4.6 ms of CPU a frame and
# 3.4x the bytes of veryfast (15.5 ms); superfast is between (9.9 ms, 1.6x) (docs/video.md, "Speed and memory").
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
DEFAULT_PRESET = "ultrafast"
AUDIO_CODEC, AUDIO_BITRATE = "aac", 128_000
FRAMES_AHEAD, AUDIO_AHEAD = 8, 64  # decoded frames (1.4 MB each at 720p) and AAC packets (about 0.4 KB) in flight


def frame_runs(change_points, selected):
    """[(first, last), ...] frame ranges (inclusive) of the selected shots, adjacent shots merged, in order."""
    runs = []
    for (first, last), keep in zip(np.asarray(change_points).tolist(), selected):
        if not keep:
            continue
        if runs and runs[-1][1] + 1 == first:
            runs[-1] = (runs[-1][0], last)
        else:
            runs.append((first, last))
    return runs


def video_frames(path, timeline, runs):
    """The decoded source frames of `runs`, in order (PyAV VideoFrames)."""
    container = open_video(path)
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    try:
        if timeline.pts is None:
            wanted = np.zeros(timeline.n_frames, dtype=bool)
            for first, last in runs:
                wanted[first:last + 1] = True
            for index, frame in enumerate(container.decode(stream)):
                if index >= timeline.n_frames or index > runs[-1][1]:
                    break
                if wanted[index]:
                    yield frame
            return
        for first, last in runs:
            start, stop = int(timeline.pts[first]), int(timeline.pts[last])
            frames, frame = seek(path, container, stream, timeline, first)
            while frame is not None and frame.pts <= stop:
                if frame.pts >= start:
                    yield frame
                frame = next(frames, None)
    except av.FFmpegError as e:
        raise UserError(f"{path}: cannot decode the video again for the summary ({av_reason(e)})") from None
    finally:
        container.close()


def seek(path, container, stream, timeline, index):
    """(frame iterator, first decoded frame) after a seek that lands at or before frame `index`.

    Seeking finds the keyframe before a timestamp by decoding timestamps, which with B-frames can be a keyframe shown
    after the frame wanted: the seek is then retried from 1 s, 10 s, then all the way before it.
    """
    for back in (0, timeline.fps, 10 * timeline.fps, index):
        container.seek(int(timeline.pts[max(0, index - int(back))]), stream=stream, backward=True)
        frames = container.decode(stream)
        frame = next(frames, None)
        if frame is not None and frame.pts is not None and frame.pts <= timeline.pts[index]:
            return frames, frame
    raise UserError(f"{path}: cannot seek back to frame {index} for the summary")


def audio_samples(path, spans, layout, rate):
    """For each (start, end) span in seconds, float32 [channels, n] blocks holding exactly its
    round(end * rate) - round(start * rate) samples (silence where the source has none), in `layout` and `rate`."""
    container = open_video(path)
    stream = container.streams.audio[0]
    channels = len(av.AudioLayout(layout).channels)
    try:
        for start, end in spans:
            first, stop = round(start * rate), round(end * rate)
            position = first
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
            container.seek(max(0, int(start / stream.time_base)), stream=stream, backward=True)
            for decoded in container.decode(stream):
                if decoded.pts is None:
                    continue
                frame_start = round(float(decoded.pts * decoded.time_base) * rate)
                for frame in resampler.resample(decoded):
                    samples = frame.to_ndarray().reshape(channels, -1)
                    lo, hi = max(position, frame_start), min(stop, frame_start + samples.shape[1])
                    if hi > lo:
                        if lo > position:
                            yield np.zeros((channels, lo - position), dtype=np.float32)
                        yield samples[:, lo - frame_start:hi - frame_start]
                        position = hi
                    frame_start += samples.shape[1]
                if position >= stop or frame_start >= stop:
                    break
            if position < stop:
                yield np.zeros((channels, stop - position), dtype=np.float32)
    except av.FFmpegError as e:
        raise UserError(f"{path}: cannot decode the audio for the summary ({av_reason(e)})") from None
    finally:
        container.close()


def audio_packets(stream, blocks, layout, rate):
    """The AAC packets of `stream` encoding the sample blocks of `blocks`, in frames of the codec's size with
    sample-counted timestamps, the encoder flushed at the end."""
    size = stream.codec_context.frame_size or 1024
    pending, written = None, 0
    for block in itertools.chain(blocks, [None]):
        if block is not None:
            pending = block if pending is None else np.concatenate((pending, block), axis=1)
        if pending is None:
            continue
        usable = pending.shape[1] if block is None else pending.shape[1] - pending.shape[1] % size
        for offset in range(0, usable, size):
            chunk = np.ascontiguousarray(pending[:, offset:min(offset + size, usable)])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = rate, written, Fraction(1, rate)
            written += chunk.shape[1]
            yield from stream.encode(frame)
        pending = pending[:, usable:]
    yield from stream.encode(None)


def source_audio_format(source):
    """(layout, sample rate) of the summary's audio: the source's first audio stream, downmixed to stereo."""
    with open_video(source) as container:
        codec = container.streams.audio[0].codec_context
        return ("mono" if codec.channels == 1 else "stereo"), (codec.sample_rate or 48000)


def write_summary_video(source, target, timeline, runs, preset=DEFAULT_PRESET):
    """Encode the frames of `runs` (and their audio, when the source has some) from `source` into `target`, with
    libx264's `preset`.

    Decoding the source's frames and encoding the audio each run in a thread of their own (ahead.py), a few items
    ahead of this one, which feeds libx264 (its own frame threads) and interleaves the packets by time.
    """
    rate, time_base = timeline.rate, 1 / timeline.rate
    width, height = timeline.width - timeline.width % 2, timeline.height - timeline.height % 2
    total = sum(last - first + 1 for first, last in runs)
    try:
        with av.open(str(target), "w", format="mp4") as output:
            video = output.add_stream(VIDEO_CODEC, rate=rate, options={"preset": preset, "crf": CRF})
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            video.codec_context.time_base = time_base
            video.codec_context.thread_type = "FRAME"
            audio = None
            if timeline.has_audio:
                layout, sample_rate = source_audio_format(source)
                spans = [(timeline.start + timeline.seconds[first], timeline.start + timeline.seconds[last + 1])
                         for first, last in runs]
                audio = output.add_stream(AUDIO_CODEC, rate=sample_rate, layout=layout)
                audio.bit_rate = AUDIO_BITRATE
            output.start_encoding()  # opens both encoders here, before the audio thread uses its own
            with ExitStack() as threads:
                frames = threads.enter_context(closing(ahead(video_frames(source, timeline, runs), FRAMES_AHEAD,
                                                             "summary decode")))
                packets = iter(()) if audio is None else threads.enter_context(closing(ahead(
                    audio_packets(audio, audio_samples(source, spans, layout, sample_rate), layout, sample_rate),
                    AUDIO_AHEAD, "summary audio")))
                packet, count = next(packets, None), 0
                with tqdm(total=total, desc="summary.mp4", unit="frame", disable=None) as progress:
                    for frame in frames:
                        if count == total:
                            break
                        if frame.format.name != "yuv420p" or frame.width != width or frame.height != height:
                            frame = frame.reformat(width=width, height=height, format="yuv420p")
                        frame.pts, frame.time_base = count, time_base
                        output.mux(video.encode(frame))
                        count += 1
                        progress.update()
                        # The audio up to the video written so far: the two streams stay interleaved.
                        while packet is not None and packet.pts * packet.time_base < count * time_base:
                            output.mux(packet)
                            packet = next(packets, None)
                if count != total:
                    raise UserError(f"{source}: decoding again gave {count} of the {total} summary frames")
                output.mux(video.encode(None))
                while packet is not None:
                    output.mux(packet)
                    packet = next(packets, None)
    except av.FFmpegError as e:
        raise UserError(f"{target}: cannot encode the summary video ({av_reason(e)})") from None
