#!/usr/bin/env python3
# Makes the provider fake's sample media: invoice-photo.png, voice-note.wav, invoice-42.pdf and
# contact.vcf with the standard library only (deterministic); clip.webm (a 2 s VP8/Opus video)
# and voice-note.ogg (the voice note as WhatsApp sends it, Ogg Opus) through GStreamer's C API
# when it is installed (gstreamer1.0-plugins-base and -good: videotestsrc, vp8enc, webmmux,
# opusenc, oggmux), else those two are left as they are.
import math
import os
import random
import struct
import wave
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def png(path, width=480, height=320):
    rng = random.Random(42)
    cx, cy = width / 2 + 6, height / 2 + 4
    pw, ph = 300.0, 268.0  # paper size, its own units (pixels)
    angle = math.radians(-4.0)
    ca, sa = math.cos(angle), math.sin(angle)

    # The "text": per line, (v, [(u0, u1), ...]) word spans in paper coordinates.
    lines = []
    v = 62.0
    for i in range(11):
        u = 22.0
        words = []
        limit = pw - 22 - (rng.uniform(0, 110) if i % 4 == 3 else rng.uniform(0, 30))
        while True:
            w = rng.uniform(10, 42)
            if u + w > limit:
                break
            words.append((u, u + w))
            u += w + rng.uniform(5, 8)
        lines.append((v, words))
        v += 14.0 if i != 3 else 24.0
    total_v = v + 10.0

    def paper(u, v):
        """Colour of the paper at (u, v), or None outside it."""
        if not (0 <= u < pw and 0 <= v < ph):
            return None
        # Lighting: brighter at the top left, a little warm.
        light = 246 - 0.045 * u - 0.05 * v
        r, g, b = light, light - 2, light - 9
        # Header bar with a white "logo" block.
        if 12 <= v < 40 and 14 <= u < pw - 14:
            r, g, b = 38, 62, 110
            if 22 <= u < 46 and 18 <= v < 34:
                r, g, b = 235, 235, 240
            elif 54 <= u < 150 and 22 <= v < 30:
                r, g, b = 200, 208, 225
            return r, g, b
        for lv, words in lines:
            if lv <= v < lv + 4.5:
                for u0, u1 in words:
                    if u0 <= u < u1:
                        return 52, 50, 55
        # Rule above the total and a bold total line on the right.
        if total_v - 6 <= v < total_v - 5 and 150 <= u < pw - 22:
            return 90, 90, 95
        if total_v <= v < total_v + 7 and 180 <= u < pw - 22:
            return 30, 28, 32
        # A faint round stamp at the bottom left.
        d = math.hypot(u - 60, v - (ph - 40))
        if 20 <= d < 23:
            return r * 0.7 + 40 * 0.3, g * 0.7 + 60 * 0.3, b * 0.7 + 160 * 0.3
        return r, g, b

    rows = []
    for y in range(height):
        row = bytearray()
        for x in range(width):
            dx, dy = x - cx, y - cy
            u = ca * dx + sa * dy + pw / 2
            v = -sa * dx + ca * dy + ph / 2
            c = paper(u, v)
            if c is None:
                # Desk: dark wood-ish gradient with soft grain, a shadow near the paper.
                grain = 6 * math.sin(y * 0.11 + 3 * math.sin(x * 0.013))
                base = 70 + 22 * (x / width) - 18 * (y / height) + grain
                su = ca * (dx - 5) + sa * (dy - 7) + pw / 2
                sv = -sa * (dx - 5) + ca * (dy - 7) + ph / 2
                shade = 0.55 if (0 <= su < pw and 0 <= sv < ph) else 1.0
                c = (base * 1.05 * shade, base * 0.72 * shade, base * 0.48 * shade)
            # Soft vignette, as a phone camera gives (no per-pixel noise: it would not compress).
            vig = 1 - 0.22 * ((dx / width) ** 2 + (dy / height) ** 2)
            row += bytes(max(0, min(255, int(ch * vig))) for ch in c)
        rows.append(bytes(row))

    def filtered(prev, cur, bpp=3):
        best = None
        for ft in range(5):
            out = bytearray([ft])
            for i, xb in enumerate(cur):
                a = cur[i - bpp] if i >= bpp else 0
                b = prev[i] if prev is not None else 0
                c = prev[i - bpp] if (prev is not None and i >= bpp) else 0
                if ft == 0:
                    p = 0
                elif ft == 1:
                    p = a
                elif ft == 2:
                    p = b
                elif ft == 3:
                    p = (a + b) // 2
                else:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                out.append((xb - p) & 0xFF)
            score = sum(x if x < 128 else 256 - x for x in out[1:])
            if best is None or score < best[0]:
                best = (score, bytes(out))
        return best[1]

    raw = b"".join(filtered(rows[i - 1] if i else None, rows[i]) for i in range(height))

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
    with open(path, "wb") as f:
        f.write(data)


def wav(path, rate=16000, seconds=3.0):
    rng = random.Random(7)
    n = int(rate * seconds)
    # Syllables: (start s, length s, f0 start Hz, f0 end Hz, loudness).
    syllables = [
        (0.15, 0.22, 205, 228, 0.85),
        (0.42, 0.18, 230, 212, 0.70),
        (0.68, 0.30, 215, 190, 0.95),
        (1.20, 0.20, 200, 236, 0.75),
        (1.46, 0.26, 238, 206, 0.90),
        (1.80, 0.16, 210, 196, 0.60),
        (2.25, 0.38, 198, 182, 0.80),
    ]
    # Harmonic weights shaped like a rough vowel (formant bumps near 500 and 1500 Hz).
    def weight(freq):
        return (
            0.35
            + 1.0 * math.exp(-((freq - 550) / 220) ** 2)
            + 0.5 * math.exp(-((freq - 1500) / 300) ** 2)
        ) / (1 + freq / 900)

    samples = [0.0] * n
    for start, length, f0a, f0b, loud in syllables:
        i0, count = int(start * rate), int(length * rate)
        phase = 0.0
        for k in range(count):
            t = k / count
            f0 = f0a + (f0b - f0a) * t + 3 * math.sin(2 * math.pi * 5.5 * k / rate)
            phase += 2 * math.pi * f0 / rate
            env = math.sin(math.pi * min(1.0, t / 0.25) / 2) ** 2 * (1 - t) ** 0.6
            s = sum(
                weight(h * f0) * math.sin(h * phase) for h in range(1, 12) if h * f0 < 3800
            )
            samples[i0 + k] += loud * env * s
    peak = max(abs(s) for s in samples) or 1.0
    frames = bytearray()
    for s in samples:
        value = 0.7 * s / peak + rng.gauss(0, 0.004)  # a little room hiss
        frames += struct.pack("<h", max(-32767, min(32767, int(value * 32767))))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def pdf(path):
    def text(x, y, size, s, font="F1"):
        s = s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return f"BT /{font} {size} Tf {x} {y} Td ({s}) Tj ET\n"

    content = (
        "0.15 0.24 0.43 rg 56 760 483 36 re f\n"
        "1 1 1 rg\n"
        + text(70, 772, 16, "Switchboard Demo Supplies LLC", "F2")
        + "0 0 0 rg\n"
        + text(56, 715, 24, "Invoice No. 42", "F2")
        + text(56, 690, 11, "Date: 2025-03-14     Due: 2025-03-28")
        + text(56, 660, 11, "Bill to: OOO Romashka, Moscow")
        + text(56, 620, 11, "Office chairs, model K-2            40 pcs x 310.00     12 400.00")
        + text(56, 604, 11, "Delivery to Voronezh                                         1 500.00")
        + "0.5 0.5 0.5 RG 56 590 m 539 590 l S\n"
        + text(56, 570, 12, "Total due: 13 900.00 RUB", "F2")
        + text(56, 540, 9, "Thank you for your order.")
    ).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Title (Invoice No. 42) /Producer (provider-fake generate.py) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    with open(path, "wb") as f:
        f.write(out)


def vcf(path):
    # vCard 3.0 as a phone shares a contact: CRLF lines, a folded one, a grouped property.
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        "N:Соколова;Мария;;;",
        "FN:Мария Соколова",
        "ORG:ООО «Вектор»;Закупки",
        "TEL;type=CELL;type=VOICE;waid=79165550123:+7 916 555-01-23",
        "item1.TEL;type=WORK:+7 495 700-",
        " 12-34",
        "EMAIL;type=INTERNET:m.sokolova@vector.example",
        "END:VCARD",
    ]
    with open(path, "wb") as f:
        f.write(("\r\n".join(lines) + "\r\n").encode("utf-8"))


def gstreamer(pipeline):
    import ctypes
    try:
        g = ctypes.CDLL("libgstreamer-1.0.so.0")
    except OSError:
        print("GStreamer not installed: skipped", pipeline.split()[-1])
        return
    g.gst_init(None, None)
    g.gst_parse_launch.restype = ctypes.c_void_p
    g.gst_parse_launch.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    g.gst_element_set_state.argtypes = [ctypes.c_void_p, ctypes.c_int]
    g.gst_element_get_bus.restype = ctypes.c_void_p
    g.gst_element_get_bus.argtypes = [ctypes.c_void_p]
    g.gst_bus_timed_pop_filtered.restype = ctypes.c_void_p
    g.gst_bus_timed_pop_filtered.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int]
    p = g.gst_parse_launch(pipeline.encode(), None)
    if not p:
        raise SystemExit("GStreamer could not build: " + pipeline)
    g.gst_element_set_state(p, 4)  # PLAYING
    bus = g.gst_element_get_bus(p)
    GST_MESSAGE_EOS, GST_MESSAGE_ERROR = 1 << 0, 1 << 1
    g.gst_bus_timed_pop_filtered(bus, 0xFFFFFFFFFFFFFFFF, GST_MESSAGE_EOS | GST_MESSAGE_ERROR)
    g.gst_element_set_state(p, 1)  # NULL


if __name__ == "__main__":
    png(os.path.join(HERE, "invoice-photo.png"))
    wav(os.path.join(HERE, "voice-note.wav"))
    pdf(os.path.join(HERE, "invoice-42.pdf"))
    for name in ("invoice-photo.png", "voice-note.wav", "invoice-42.pdf"):
        print(name, os.path.getsize(os.path.join(HERE, name)))
    vcf(os.path.join(HERE, "contact.vcf"))
    gstreamer(
        "videotestsrc num-buffers=50 pattern=smpte75 ! video/x-raw,width=320,height=240,framerate=25/1 "
        "! vp8enc deadline=1 target-bitrate=200000 ! webmmux name=m ! filesink location="
        + os.path.join(HERE, "clip.webm")
        + " audiotestsrc num-buffers=94 wave=sine freq=440 volume=0.2 ! audio/x-raw,rate=48000,channels=1 ! opusenc ! m."
    )
    gstreamer(
        "filesrc location=" + os.path.join(HERE, "voice-note.wav")
        + " ! wavparse ! audioconvert ! audioresample ! audio/x-raw,rate=48000 ! opusenc bitrate=24000 ! oggmux ! filesink location="
        + os.path.join(HERE, "voice-note.ogg")
    )
