#!/usr/bin/env python3
"""Writes PNG fixtures in layouts MedLens's own PNG writer does not produce, into fixtures/photo/png/.

The PNG bytes are assembled here from the specification with zlib alone (no imaging library), so the decoder
under test is checked against values this script chose, not against another decoder. For each <name>.png it
writes <name>_expected.npy: float32, C x 1 x H x W (the Volume layout), alpha removed as PhotoReader does.
Run from the repository root with any Python 3 that has NumPy:

    .venv-torch/bin/python tools/imaging/make_png_fixtures.py
"""
import pathlib
import struct
import zlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "photo" / "png"


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int, height: int, bit_depth: int, colour_type: int, rows: list, extra: bytes = b"") -> bytes:
    """rows: the packed bytes of each row; every row gets filter type 0 (None)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    data = zlib.compress(b"".join(b"\x00" + row for row in rows))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def save(name: str, data: bytes, expected: np.ndarray) -> None:
    (OUT / f"{name}.png").write_bytes(data)
    np.save(OUT / f"{name}_expected.npy", expected.astype(np.float32)[:, None, :, :])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)

    # Palette, 8-bit indices into 4 colours, 5 x 4.
    palette = np.array([[0, 0, 0], [255, 0, 0], [10, 200, 30], [250, 250, 250]], dtype=np.uint8)
    indices = rng.integers(0, 4, size=(4, 5), dtype=np.uint8)
    plte = chunk(b"PLTE", palette.tobytes())
    rgb = palette[indices].transpose(2, 0, 1)
    save("palette", png(5, 4, 8, 3, [bytes(r) for r in indices], plte), rgb)
    # The same with transparency (tRNS): libpng expands to RGBA, the reader drops alpha.
    save("palette_trns", png(5, 4, 8, 3, [bytes(r) for r in indices], plte + chunk(b"tRNS", bytes([0, 255, 128, 255]))), rgb)

    # Grey + alpha, 8-bit, 6 x 3.
    grey = rng.integers(0, 256, size=(3, 6), dtype=np.uint8)
    alpha = rng.integers(0, 256, size=(3, 6), dtype=np.uint8)
    ga = np.stack([grey, alpha], axis=-1)
    save("grey_alpha", png(6, 3, 8, 4, [r.tobytes() for r in ga]), grey[None])

    # 1-bit grey, 10 x 3: libpng scales 0/1 to 0/255.
    bits = rng.integers(0, 2, size=(3, 10), dtype=np.uint8)
    save("grey_1bit", png(10, 3, 1, 0, [np.packbits(r).tobytes() for r in bits]), (bits * 255)[None])

    # 16-bit RGB, 4 x 3, big-endian samples as PNG stores them.
    deep = rng.integers(0, 65536, size=(3, 4, 3), dtype=np.uint16)
    save("rgb16", png(4, 3, 16, 2, [r.astype(">u2").tobytes() for r in deep]), deep.transpose(2, 0, 1))

    # Broken files: a valid grey image cut short, and one with a corrupted IHDR CRC.
    good = png(6, 3, 8, 0, [r.tobytes() for r in grey])
    (OUT / "truncated.png").write_bytes(good[: len(good) // 2])
    bad = bytearray(good)
    bad[29] ^= 0xFF  # last byte of the IHDR CRC: 8 signature + 4 length + 4 type + 13 body
    (OUT / "bad_crc.png").write_bytes(bytes(bad))
    print(f"wrote PNG fixtures to {OUT}")


if __name__ == "__main__":
    main()
