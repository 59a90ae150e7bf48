"""Text extraction per format: pages and sections kept, noise dropped, clear refusals."""

from __future__ import annotations

import io
import zipfile

import pytest
from docs_support import docx_bytes, encrypted, image_only_pdf, pdf_bytes

from core.datasets.sniff import FileKind, sniff
from core.documents.chunking import chunk_blocks
from core.documents.models import DocumentKind
from core.documents.reading import is_document, read_document
from core.errors import FileTooLargeError, UnsupportedFileError
from core.settings import DocumentLimits

LIMITS = DocumentLimits(_env_file=None)  # type: ignore[call-arg]
PAGES = [
    "Refunds are paid within 14 days of the request.",
    "Warranty claims need the original invoice.",
    "Support is open Monday to Friday from 8:00 to 18:00.",
]


def test_pdf_keeps_page_numbers_and_bookmarked_sections() -> None:
    data = pdf_bytes(PAGES, bookmarks=[("Refunds", 1), ("Service", 2)])
    document = read_document(data, "terms.pdf", LIMITS)
    assert document.kind is DocumentKind.PDF and document.pages == 3
    where = {b.text: (b.page, b.section) for b in document.blocks}
    assert where[PAGES[0]] == (1, "Refunds")
    assert where[PAGES[1]] == (2, "Service")
    assert where[PAGES[2]] == (3, "Service")  # a section runs until the next bookmark
    chunks = chunk_blocks(document.blocks, LIMITS, file_name="terms.pdf")
    assert [c.location for c in chunks] == ["p. 1 · Refunds", "p. 2 · Service", "p. 3 · Service"]


def test_pdf_with_only_an_owner_password_is_read() -> None:
    data = encrypted(pdf_bytes(PAGES), user_password="", owner_password="owner-secret")
    assert [b.text for b in read_document(data, "locked.pdf", LIMITS).blocks] == PAGES


def test_password_protected_pdf_is_refused_with_what_to_do() -> None:
    data = encrypted(pdf_bytes(PAGES), user_password="open-sesame", owner_password="x")
    with pytest.raises(UnsupportedFileError) as refused:
        read_document(data, "secret.pdf", LIMITS)
    assert "secret.pdf is password-protected" in refused.value.user_message
    assert "without the password" in refused.value.user_message


def test_image_only_pdf_is_refused_as_scanned() -> None:
    with pytest.raises(UnsupportedFileError) as refused:
        read_document(image_only_pdf(), "scan.pdf", LIMITS)
    assert "no text layer" in refused.value.user_message
    assert "OCR" in refused.value.user_message


def test_limits_on_pages_bytes_and_passages() -> None:
    data = pdf_bytes(PAGES)
    with pytest.raises(FileTooLargeError, match="3 pages"):
        read_document(data, "long.pdf", DocumentLimits(_env_file=None, max_pages=2))  # type: ignore[call-arg]
    with pytest.raises(FileTooLargeError, match="documents can be at most"):
        read_document(data, "big.pdf", DocumentLimits(_env_file=None, max_bytes=len(data) - 1))  # type: ignore[call-arg]
    few = DocumentLimits(_env_file=None, max_chunks=2)  # type: ignore[call-arg]
    document = read_document(data, "many.pdf", few)
    with pytest.raises(FileTooLargeError, match="more than 2 passages"):
        chunk_blocks(document.blocks, few, file_name="many.pdf")


def test_docx_headings_become_sections_and_tables_rows() -> None:
    data = docx_bytes(
        [
            ("h1", "Leave policy"),
            ("p", "Everyone gets 28 days of paid leave."),
            ("h2", "Sick leave"),
            ("p", "Report sickness before 10:00 on the first day."),
        ],
        table=[["Years of service", "Extra days"], ["5", "2"], ["10", "4"]],
    )
    document = read_document(data, "leave.docx", LIMITS)
    assert document.kind is DocumentKind.DOCX
    where = {b.text: b.section for b in document.blocks}
    assert where["Everyone gets 28 days of paid leave."] == "Leave policy"
    assert where["Report sickness before 10:00 on the first day."] == "Leave policy › Sick leave"
    assert where["10 | 4"] == "Leave policy › Sick leave"


def test_markdown_sections_nest_and_markup_is_dropped() -> None:
    text = (
        "# Handbook\n\nIntro text.\n\n## Security\n\nUse **strong** [passwords](https://x).\n\n"
        "### Laptops\n\n- Encrypt the disk\n- Lock the screen\n\n## Travel\n\n"
        "| Class | Allowed |\n|---|---|\n| Economy | always |\n"
    )
    document = read_document(text.encode(), "handbook.md", LIMITS)
    where = {b.text: b.section for b in document.blocks if not b.heading}
    assert where["Use strong passwords."] == "Handbook › Security"
    assert where["Encrypt the disk"] == "Handbook › Security › Laptops"
    assert where["Economy | always"] == "Handbook › Travel"


def test_html_drops_scripts_styles_and_navigation() -> None:
    page = (
        "<html><head><title>T</title><script>var secret = 1;</script><style>p{}</style></head>"
        "<body><nav>Home | About</nav><h1>Guide</h1><p>First <b>bold</b> step.</p>"
        "<ul><li><p>Nested item</p></li></ul><h2>FAQ</h2><table><tr><td>Q</td><td>A</td></tr>"
        "</table></body></html>"
    )
    document = read_document(page.encode(), "guide.html", LIMITS)
    texts = [b.text for b in document.blocks]
    assert texts == ["Guide", "First bold step.", "Nested item", "FAQ", "Q | A"]
    assert document.blocks[-1].section == "Guide › FAQ"


def test_plain_text_headings_and_legacy_encoding() -> None:
    text = "SCOPE\n\nThis applies to café staff.\n\n2. Hours\n\nOpen from 7:00.\n"
    document = read_document(text.encode("cp1252"), "notes.txt", LIMITS)
    where = {b.text: b.section for b in document.blocks if not b.heading}
    assert where == {"This applies to café staff.": "SCOPE", "Open from 7:00.": "2. Hours"}


@pytest.mark.parametrize(
    ("name", "data", "what"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "a PNG image"),
        ("archive.pdf", None, "a ZIP archive"),
    ],
)
def test_unsupported_types_say_what_they_are(name: str, data: bytes | None, what: str) -> None:
    if data is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("a.txt", "hello")
        data = buffer.getvalue()
    with pytest.raises(UnsupportedFileError) as refused:
        read_document(data, name, LIMITS)
    assert f"{name} is {what}" in refused.value.user_message
    assert "PDF, Word (.docx), Markdown, plain text or HTML" in refused.value.user_message


def test_documents_are_told_from_data_files() -> None:
    assert sniff(b"# Title\n\nSome prose, with a comma.\n", "notes.md") is FileKind.MARKDOWN
    assert sniff(b"We met on Monday, as planned.\nIt went well.\n", "memo.txt") is FileKind.TEXT
    assert sniff(b"a,b\n1,2\n3,4\n", "table.txt") is FileKind.CSV
    assert sniff(b"a\tb\n1\t2\n", "table.txt") is FileKind.CSV
    assert is_document(pdf_bytes(PAGES), "x.bin")
    assert is_document(docx_bytes([("p", "hi")]), "x.docx")
    assert not is_document(b"a,b\n1,2\n", "x.csv")


def test_a_one_column_txt_stays_a_table() -> None:
    assert sniff(b"amount\n12.5\n17\n3\n", "values.txt") is FileKind.CSV
