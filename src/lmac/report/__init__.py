"""Reports a person reads: one self-contained HTML page per prediction (inline CSS, SVG, a few
lines of inline JS and the PNG as base64; nothing is fetched when the page is viewed)."""
from lmac.report.html import render_html, write_report  # noqa: F401
from lmac.report.timeline import timeline_png, timeline_svg  # noqa: F401
