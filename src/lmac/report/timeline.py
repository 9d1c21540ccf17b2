"""The attention timeline of one prediction, drawn twice: as inline SVG (for report.html) and as a
PNG (matplotlib Agg, no pyplot state).

Rows, top to bottom: one lane per stage (its fused span as a bar, labelled with its score, with
a mark at each modality's attention centre, so a glance shows whether motion and music peaked
together), then one row per modality: the attention of each stage over the video's seconds (last
decoder layer, one curve per stage, a dashed line at its centre).
"""
from __future__ import annotations

import html

import numpy as np

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
MARKERS = {"rgb": "circle", "flow": "triangle", "audio": "square"}  # centre marks in the stage lanes
_MPL_MARKERS = {"circle": "o", "triangle": "^", "square": "s"}


def stage_color(index: int) -> str:
    """Colour of stage `index` (1-based), shared by the table, the SVG and the PNG."""
    return PALETTE[(index - 1) % len(PALETTE)]


def segment_times(pred) -> np.ndarray:
    """Seconds of each segment's middle, (T,)."""
    t = np.arange(1, pred.n_segments + 1, dtype=np.float64)
    return pred.offset_s + (t - 0.5) * pred.segment_s


def _ticks(duration: float) -> list[float]:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300):
        if duration / step <= 12:
            break
    return [float(x) for x in np.arange(0, duration + 1e-9, step)]


def _clock(s: float) -> str:
    m, sec = divmod(int(round(s)), 60)
    return f"{m}:{sec:02d}"


# ----------------------------------------------------------------------------- SVG
def timeline_svg(pred, width: int = 960) -> str:
    """Inline SVG of the timeline (no external resources). Elements of stage k carry data-stage=k."""
    if not pred.stages:
        return ""
    mods = list(pred.modalities)
    left, right, top = 64, 16, 8
    lane_h, row_h, axis_h = 18, 64, 30
    elements = list(getattr(pred, "elements", None) or [])
    fused_h = 6 + lane_h * (len(pred.stages) + (1 if elements else 0))
    height = top + fused_h + row_h * len(mods) + axis_h
    plot_w = width - left - right
    dur = max(pred.duration_s, 1e-6)

    def x(t):
        return left + plot_w * min(max(t, 0.0), dur) / dur

    e = html.escape
    out = [
        f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="attention timeline">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{fused_h + row_h * len(mods)}" fill="#fafafa" stroke="#ddd"/>',
    ]
    # grid and time axis
    y_axis = top + fused_h + row_h * len(mods)
    for t in _ticks(dur):
        out.append(f'<line x1="{x(t):.1f}" y1="{top}" x2="{x(t):.1f}" y2="{y_axis}" stroke="#e6e6e6"/>')
        out.append(f'<text x="{x(t):.1f}" y="{y_axis + 14}" class="tick" text-anchor="middle">{_clock(t)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{y_axis + 27}" class="axis" text-anchor="middle">time in the video (m:ss)</text>')
    # stages rows: one lane per stage (Gantt style, so overlapping stages stay readable): the fused
    # span as a bar with its centre, the score as a label, and each modality's centre as a mark
    for s in pred.stages:
        c = stage_color(s.index)
        y0 = top + 3 + (s.index - 1) * lane_h
        yc = y0 + lane_h / 2
        tip = f"stage {s.index}: {s.start_s:.1f}-{s.end_s:.1f} s, score {s.score:.2f}, weight {s.weight:.3f}"
        out.append(
            f'<g class="stage" data-stage="{s.index}"><title>{e(tip)}</title>'
            f'<text x="{left - 6}" y="{yc + 4:.1f}" class="lane" text-anchor="end">S{s.index} {s.score:.1f}</text>'
            f'<rect x="{x(s.start_s):.1f}" y="{y0 + 2:.1f}" width="{max(x(s.end_s) - x(s.start_s), 1.5):.1f}" '
            f'height="{lane_h - 4}" rx="3" fill="{c}" fill-opacity="0.3" stroke="{c}"/>'
            f'<line x1="{x(s.center_s):.1f}" y1="{y0 + 1:.1f}" x2="{x(s.center_s):.1f}" y2="{y0 + lane_h - 1:.1f}" stroke="{c}" stroke-width="2.5"/>'
        )
        for m in mods:
            cx, cy = x(s.modalities[m].center_s), yc
            shape = MARKERS.get(m, "circle")
            if shape == "square":
                out.append(f'<rect x="{cx - 3.5:.1f}" y="{cy - 3.5:.1f}" width="7" height="7" fill="#fff" stroke="#222" stroke-width="1"/>')
            elif shape == "triangle":
                out.append(f'<path d="M{cx:.1f},{cy - 4.5:.1f} L{cx + 4.5:.1f},{cy + 3.5:.1f} L{cx - 4.5:.1f},{cy + 3.5:.1f} Z" fill="#fff" stroke="#222" stroke-width="1"/>')
            else:
                out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.8" fill="#fff" stroke="#222" stroke-width="1"/>')
        out.append("</g>")
    if elements:  # the annotated elements (--elements), one lane under the stages
        y0 = top + 3 + len(pred.stages) * lane_h
        out.append(f'<text x="{left - 6}" y="{y0 + lane_h / 2 + 4:.1f}" class="lane" text-anchor="end">judged</text>')
        for el in elements:
            tip = f"{el['name']}: {el['start_s']:.0f}-{el['end_s']:.0f} s"
            out.append(f'<g class="element"><title>{e(tip)}</title><rect x="{x(el["start_s"]):.1f}" y="{y0 + 3:.1f}" '
                       f'width="{max(x(el["end_s"]) - x(el["start_s"]), 1.5):.1f}" height="{lane_h - 6}" fill="#555" '
                       f'fill-opacity="0.55"/></g>')
    # one row per modality: attention curves over bands of each stage's span
    ts = segment_times(pred)
    for r, m in enumerate(mods):
        y0 = top + fused_h + r * row_h
        out.append(f'<line x1="{left}" y1="{y0}" x2="{left + plot_w}" y2="{y0}" stroke="#ccc"/>')
        out.append(f'<text x="{left - 6}" y="{y0 + row_h / 2 + 4:.1f}" class="lane" text-anchor="end">{e(m)}</text>')
        a = np.asarray(pred.attention[m], dtype=np.float64)  # (K, T)
        amax = float(a.max()) or 1.0
        for s in pred.stages:
            c = stage_color(s.index)
            sp = s.modalities[m]
            row = a[s.index - 1]
            base = y0 + row_h - 4
            pts = [(x(t), base - (row_h - 12) * v / amax) for t, v in zip(ts, row)]
            if len(pts) == 1:
                pts = [(x(pred.offset_s), pts[0][1]), (x(pred.offset_s + pred.segment_s), pts[0][1])]
            line = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
            area = f"{pts[0][0]:.1f},{base:.1f} {line} {pts[-1][0]:.1f},{base:.1f}"
            tip = f"{m}, stage {s.index}: centre {sp.center_s:.1f} s ({sp.start_s:.1f}-{sp.end_s:.1f} s)"
            out.append(
                f'<g class="stage" data-stage="{s.index}"><title>{e(tip)}</title>'
                f'<polygon points="{area}" fill="{c}" fill-opacity="0.06"/>'
                f'<polyline points="{line}" fill="none" stroke="{c}" stroke-width="1.6"/>'
                f'<line x1="{x(sp.center_s):.1f}" y1="{y0 + 2}" x2="{x(sp.center_s):.1f}" y2="{y0 + row_h - 2}" '
                f'stroke="{c}" stroke-dasharray="3,2"/></g>'
            )
    out.append("</svg>")
    return "".join(out)


# ----------------------------------------------------------------------------- PNG
def timeline_png(pred, dpi: int = 110) -> bytes:
    """The same timeline rendered with matplotlib's Agg canvas; returns PNG bytes."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    mods = list(pred.modalities)
    K = len(pred.stages)
    fig = Figure(figsize=(10, 1.3 + 0.28 * K + 1.1 * len(mods)), dpi=dpi)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(mods) + 1, 1, sharex=True, gridspec_kw={"height_ratios": [0.28 * K + 0.2] + [1.1] * len(mods)})
    dur = max(pred.duration_s, 1e-6)
    ax = axes[0]
    for s in pred.stages:  # one lane per stage, top to bottom
        c, y = stage_color(s.index), K - s.index
        ax.barh(y, s.end_s - s.start_s, left=s.start_s, height=0.75, color=c, alpha=0.3, edgecolor=c)
        ax.plot([s.center_s, s.center_s], [y - 0.375, y + 0.375], color=c, lw=2.5)
        for m in mods:
            ax.plot([s.modalities[m].center_s], [y], marker=_MPL_MARKERS[MARKERS.get(m, "circle")], mfc="white",
                    mec="#222", mew=1, ms=6, ls="none")
    ticks, labels = [K - s.index for s in pred.stages], [f"S{s.index} {s.score:.1f}" for s in pred.stages]
    elements = list(getattr(pred, "elements", None) or [])
    for el in elements:  # the annotated elements (--elements), one lane under the stages
        ax.barh(-1, el["end_s"] - el["start_s"], left=el["start_s"], height=0.6, color="#555", alpha=0.55)
    if elements:
        ticks, labels = ticks + [-1], labels + ["judged"]
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.set_ylim(-1.6 if elements else -0.6, K - 0.4)
    ts = segment_times(pred)
    for ax, m in zip(axes[1:], mods):
        a = np.asarray(pred.attention[m], dtype=np.float64)
        for s in pred.stages:
            c = stage_color(s.index)
            if len(ts) > 1:
                ax.plot(ts, a[s.index - 1], color=c, lw=1.5)
                ax.fill_between(ts, 0, a[s.index - 1], color=c, alpha=0.06)
            else:
                ax.bar(ts, a[s.index - 1], width=pred.segment_s, color=c, alpha=0.3)
            ax.axvline(s.modalities[m].center_s, color=c, ls="--", lw=1)
        ax.set_ylim(0, max(float(a.max()), 1e-6) * 1.1)
        ax.set_yticks([])
        ax.set_ylabel(m, rotation=0, ha="right", va="center")
    axes[-1].set_xlim(0, dur)
    axes[-1].set_xlabel("time in the video (s)")
    fig.suptitle(f"{pred.video_id}: {pred.score:.2f} / {pred.score_range:g} points ({pred.model})", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
