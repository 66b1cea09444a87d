"""Reads the JSON model card of a .dws file (core/base/base.h: magic, u32 version,
u32 card length, card). Python standard library only."""
import json
import struct


def read_card(path):
    with open(path, "rb") as f:
        head = f.read(16)
        if len(head) != 16 or head[:8] != b"DWSNET\0\1":
            raise ValueError(f"{path} is not a .dws model file")
        _version, length = struct.unpack("<II", head[8:])
        return json.loads(f.read(length).decode("utf-8"))
