"""Keeping the memory of a long run flat: at most two glibc malloc arenas.

glibc gives threads their own heaps (arenas). Here FFmpeg's decoding threads and PyTorch's threads allocate and free
frame-sized buffers all along the video, and the freed space, fragmented across up to 8 arenas per core, is not
given back: the resident size grew by about 150 KB per sampled frame (2.5 GB for 90 minutes). Two arenas keep it
flat at no measured cost in speed. This must run before those threads exist, i.e. before importing torch or
decoding; it does nothing where the C library has no mallopt (not glibc).
"""
import ctypes

M_ARENA_MAX = -8  # glibc's mallopt parameter number


def limit_malloc_arenas(arenas=2):
    """Ask glibc to use at most `arenas` malloc arenas; True if it accepted."""
    try:
        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, arenas))
    except (AttributeError, OSError):
        return False
