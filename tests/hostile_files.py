"""Hostile plan files, built for the tests and the benchmark: a valid workbook with parts
replaced, a shared-strings bomb, a zip of many entries, a sheet 20,000 columns wide."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import IO

from openpyxl import Workbook

HEADERS = ["Recomendación Nº", "Recomendación", "Acción clave Nº", "Acción clave", "Plazo"]
SHEET = "xl/worksheets/sheet1.xml"
SHARED_STRINGS = "xl/sharedStrings.xml"
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = "</sheetData></worksheet>"

#: A part's content: bytes, or a function writing them to a stream (so that hundreds of MB are
#: compressed without being held).
Part = bytes | Callable[[IO[bytes]], None]


def workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADERS)
    sheet.append(["1", "Mejorar el monitoreo", 1, "Diseñar el tablero", "2013"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def replaced(parts: dict[str, Part], *, extra: int = 0) -> bytes:
    """A valid workbook with some parts replaced, and `extra` empty parts."""
    source = zipfile.ZipFile(io.BytesIO(workbook()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename not in parts:
                target.writestr(info.filename, source.read(info.filename))
        for name, content in parts.items():
            with target.open(name, "w", force_zip64=True) as stream:
                if callable(content):
                    content(stream)
                else:
                    stream.write(content)
        for n in range(extra):
            target.writestr(f"customXml/item{n}.xml", b"")
    return out.getvalue()


def sheet(rows: str) -> bytes:
    return (SHEET_HEAD + rows + SHEET_TAIL).encode()


def column(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def shared_strings_bomb() -> bytes:
    """A few hundred KB whose shared strings expand to 300 MB."""

    def payload(stream: IO[bytes]) -> None:
        stream.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/')
        stream.write(b'spreadsheetml/2006/main" count="300" uniqueCount="300">')
        chunk = b"<si><t>" + b"A" * 1_000_000 + b"</t></si>"
        for _ in range(300):
            stream.write(chunk)
        stream.write(b"</sst>")

    return replaced({SHARED_STRINGS: payload})


def many_entries(count: int = 600) -> bytes:
    return replaced({}, extra=count)


def wide_rows(columns: int = 20_000) -> bytes:
    cells = "".join(
        f'<c r="{column(n)}1" t="inlineStr"><is><t>x</t></is></c>' for n in range(1, columns + 1)
    )
    return replaced({SHEET: sheet(f'<row r="1">{cells}</row>')})
