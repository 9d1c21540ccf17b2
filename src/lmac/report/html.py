"""report.html for one prediction: the overall score, how the stages make it, and where each
modality looked (SVG timeline + the same as a PNG). Self-contained: no network at view time."""
from __future__ import annotations

import base64
import html
from pathlib import Path

from lmac.report.timeline import MARKERS, stage_color, timeline_png, timeline_svg
from lmac.utils import atomic_write_bytes, atomic_write_text

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0;background:#f4f5f7}
main{max-width:1000px;margin:0 auto;padding:20px 24px 40px;background:#fff;min-height:100vh}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:26px 0 8px}
.meta{color:#666;font-size:12.5px}.meta code{font-size:12px}
.score{display:flex;align-items:baseline;gap:10px;margin:16px 0 4px}
#score{font-size:46px;font-weight:700;color:#0b4f8a}.outof{font-size:18px;color:#555}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:5px 8px;border-bottom:1px solid #e5e5e5;text-align:right;white-space:nowrap}
th{background:#f0f2f5;font-weight:600}td:first-child,th:first-child{text-align:left}
.chip{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.bar{display:inline-block;height:8px;background:#0b4f8a;opacity:.55;vertical-align:middle;margin-left:6px}
tr.stage:hover{background:#f6f9fc}.dim{opacity:.18}
svg text{font:11px system-ui,sans-serif;fill:#444}svg .lane{font-weight:600}svg .slabel{font-weight:600;fill:#222}
figure{margin:8px 0}figcaption{color:#666;font-size:12.5px;margin-top:4px}
img.png{max-width:100%;border:1px solid #ddd}
.note{color:#555;font-size:12.5px}
"""

_JS = """
(function(){
  var els = document.querySelectorAll('[data-stage]');
  function mark(k){ for (var i = 0; i < els.length; i++) {
    els[i].classList.toggle('dim', k !== null && els[i].getAttribute('data-stage') !== k); } }
  for (var i = 0; i < els.length; i++) {
    els[i].addEventListener('mouseenter', function(){ mark(this.getAttribute('data-stage')); });
    els[i].addEventListener('mouseleave', function(){ mark(null); });
  }
})();
"""


def _fmt_s(s: float) -> str:
    m, sec = divmod(max(0.0, s), 60.0)
    return f"{int(m)}:{sec:04.1f}"


def render_html(pred, png: bytes | None = None) -> str:
    """The page as a string; `png` (the timeline PNG) is embedded as base64 when given."""
    e = html.escape
    mods = list(pred.modalities)
    pts_max = max((s.weight * s.score for s in pred.stages), default=1.0) or 1.0
    head = (
        f"<h1>lmac report: {e(pred.video_id)}</h1>"
        f'<div class="meta">video <code>{e(pred.video)}</code> &middot; {_fmt_s(pred.duration_s)} '
        f"({pred.n_segments} segments of {pred.segment_s:.2f} s)</div>"
        f'<div class="score"><span id="score">{pred.score:.2f}</span>'
        f'<span class="outof">/ {pred.score_range:g} points</span></div>'
        f'<div class="meta">model <b>{e(pred.model)}</b> &middot; task <b>{e(pred.task)}</b> &middot; '
        f"checkpoint <b>{e(pred.checkpoint)}</b> &middot; features <b>{e(pred.preset or 'unknown preset')}</b><br>"
        f"run <code>{e(pred.run)}</code></div>"
    )
    q = pred.run_quality or {}
    if q.get("test_srcc") is not None:
        val = f", validation rho {q['val_srcc_last']:.2f} over {q.get('val_videos')} videos" if q.get("val_srcc_last") is not None else ""
        head += (f'<div class="meta" id="quality">how good this run is: Spearman rho with the judges '
                 f"{q['test_srcc']:.2f} on its {q.get('test_videos')} test videos{val}"
                 f"{' (' + e(q['note']) + ')' if q.get('note') else ''}</div>")
    parts = [head] + [f'<p class="note warn">Warning: {e(w)}</p>' for w in pred.warnings]
    if pred.stages:
        gap_head = "<th title='mean distance between the modalities&#39; attention centres'>centre gap</th>" if len(mods) > 1 else ""
        rows = []
        for s in pred.stages:
            c = stage_color(s.index)
            contrib = s.weight * s.score
            cells = "".join(f"<td>{'silent' if m in pred.silent else _fmt_s(s.modalities[m].center_s)}</td>" for m in mods)
            gap = f"<td>{s.center_gap_s:.1f} s</td>" if s.center_gap_s is not None else ""
            rows.append(
                f'<tr class="stage" data-stage="{s.index}"><td><span class="chip" style="background:{c}"></span>stage {s.index}</td>'
                f"<td>{_fmt_s(s.start_s)} &ndash; {_fmt_s(s.end_s)}</td><td>{_fmt_s(s.center_s)}</td>"
                f"<td>{s.score:.2f}</td><td>{s.weight:.3f}</td>"
                f'<td>{contrib:.2f}<span class="bar" style="width:{max(2, 60 * contrib / pts_max):.0f}px"></span></td>'
                f"{cells}{gap}</tr>"
            )
        parts.append(
            "<h2>Stages</h2>"
            f'<p class="note">The overall score is the weighted sum of the stage scores: '
            f'{" + ".join(f"{s.weight:.3f}&times;{s.score:.2f}" for s in pred.stages)} = {pred.score:.2f}. '
            f"A stage is one query of the model; its time is where the modalities' attention concentrates "
            f"(centre &plusmn; spread, mean over modalities).</p>"
            '<table id="stages"><thead><tr><th>stage</th><th>time</th><th>centre</th><th>score</th><th>weight</th>'
            "<th>weight&times;score</th>" + "".join(f"<th>{e(m)} centre</th>" for m in mods) + gap_head
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        )
        legend = ", ".join(f"{e(m)} {MARKERS.get(m, 'circle')}" for m in mods)
        parts.append(
            "<h2>Where the model looked</h2>"
            f"<figure>{timeline_svg(pred)}<figcaption>Top lanes, one per stage: its time (bar, thick line at the centre) and score, with a mark at "
            f"each modality's attention centre ({legend}); marks close together mean the modalities (motion and "
            f"music) peaked together. Rows below: each modality's attention over the video, one curve per stage "
            f"(dashed line: its centre). Hover a stage to pick it out."
            + (" The grey lane marked <i>judged</i>: the annotated elements (<code>--elements</code>)." if pred.elements else "")
            + "</figcaption></figure>"
        )
        lo = pred.localisation or {}
        if lo:
            parts.append(
                f'<p class="note" id="localisation">Annotated elements: {lo["elements"]}. Some stage&#39;s centre falls '
                f'inside {lo["hit_rate"]:.0%} of them; the mean best temporal IoU of an element with a stage&#39;s span '
                f'is {lo["tiou"]:.2f}. Stages spread evenly over the video, with the same widths, would get '
                f'{lo["chance_hit_rate"]:.0%} and {lo["chance_tiou"]:.2f}.</p>')
        if png is not None:
            b64 = base64.b64encode(png).decode("ascii")
            parts.append(
                f'<h2>Timeline (PNG)</h2><figure><img class="png" id="timeline-png" alt="attention timeline" '
                f'src="data:image/png;base64,{b64}"><figcaption>The same timeline as an image '
                f"(<code>timeline.png</code> beside this page).</figcaption></figure>"
            )
    else:
        parts.append(f'<p class="note">Model <b>{e(pred.model)}</b> gives an overall score only (no stages or attention).</p>')
    parts.append(
        f'<p class="note">Written by lmac {e(pred.lmac_version)} on {e(pred.created)}. Times: segment t covers '
        f"[offset + (t&minus;1)&middot;{pred.segment_s:.2f} s, offset + t&middot;{pred.segment_s:.2f} s], offset "
        f"{pred.offset_s:.2f} s; the centre is the attention-weighted mean time and the span &plusmn; its standard deviation. "
        f"Stage scores are not supervised: they are the model's own decomposition of the overall score.</p>"
    )
    title = f"{pred.video_id}: {pred.score:.2f} / {pred.score_range:g} - lmac"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{e(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(parts)}</main><script>{_JS}</script></body></html>\n"
    )


def write_report(pred, out_dir) -> dict:
    """Write `report.html` and (for models with stages) `timeline.png` into out_dir; returns the paths."""
    out_dir = Path(out_dir)
    paths = {}
    png = None
    if pred.stages:
        png = timeline_png(pred)
        paths["png"] = out_dir / "timeline.png"
        atomic_write_bytes(paths["png"], png)
    paths["html"] = out_dir / "report.html"
    atomic_write_text(paths["html"], render_html(pred, png))
    return paths
