"""The report's page skeleton and stylesheet, as Python strings (no template engine, nothing to escape
here: every value is escaped by :mod:`recviz.report.html` before it is placed)."""

from __future__ import annotations

CSS = """
:root { --ink:#1F2937; --muted:#6B7280; --line:#E5E7EB; --bg:#F8FAFC; --card:#FFFFFF; --accent:#0072B2; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 14px/1.5 Inter, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header.top { background:#0F172A; color:#F8FAFC; padding:22px 32px 18px; }
header.top .brand { font-size:12px; letter-spacing:.12em; text-transform:uppercase; color:#93C5FD; }
header.top h1 { margin:4px 0 14px; font-size:24px; font-weight:650; }
dl.meta { display:grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); \
gap:8px 24px; margin:0; }
dl.meta div { min-width:0; }
dl.meta dt { font-size:11px; text-transform:uppercase; letter-spacing:.06em; color:#94A3B8; }
dl.meta dd { margin:0; font-size:13px; overflow-wrap:anywhere; }
nav.toc { position:sticky; top:0; z-index:10; background:#FFFFFFEE; border-bottom:1px solid var(--line);
  padding:8px 32px; display:flex; gap:18px; flex-wrap:wrap; backdrop-filter: blur(4px); }
nav.toc a { color:var(--ink); text-decoration:none; font-weight:550; font-size:13px; }
nav.toc a:hover { color:var(--accent); }
main { max-width:1280px; margin:0 auto; padding:20px 32px 48px; }
section { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:18px 22px;
  margin:0 0 20px; }
section > h2 { margin:0 0 4px; font-size:18px; }
section > p.lead, p.note { margin:0 0 12px; color:var(--muted); }
details > summary { cursor:pointer; font-weight:600; font-size:15px; margin:18px 0 6px; }
h3 { font-size:15px; margin:18px 0 6px; }
.grid2 { display:grid; grid-template-columns: 1fr 1fr; gap:16px; }
.cols { display:grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap:14px; }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } }
.figure { width:100%; min-height:220px; }
table { border-collapse:collapse; width:100%; font-size:13px; font-variant-numeric: tabular-nums; }
th { text-align:left; font-weight:600; color:var(--muted); font-size:11px; text-transform:uppercase;
  letter-spacing:.04em; border-bottom:1px solid var(--line); padding:6px 8px; }
td { border-bottom:1px solid #F1F5F9; padding:6px 8px; vertical-align:top; }
td.num, th.num { text-align:right; }
td .genres { display:block; color:var(--muted); font-size:11.5px; }
.chip { display:inline-flex; align-items:center; gap:6px; font-weight:600; white-space:nowrap; }
.chip::before { content:""; width:10px; height:10px; border-radius:2px; background:var(--c); }
.list { border:1px solid var(--line); border-radius:8px; padding:10px 12px; border-top:4px solid var(--c); }
.list h4 { margin:0 0 2px; font-size:14px; }
.list p { margin:0 0 8px; color:var(--muted); font-size:12px; overflow-wrap:anywhere; }
.badge { display:inline-block; border-radius:999px; padding:0 8px; font-size:11.5px; font-weight:650; }
.badge.up, .badge.new { background:#DCFCE7; color:#166534; }
.badge.down, .badge.left { background:#FEE2E2; color:#991B1B; }
.badge.added { background:#DBEAFE; color:#1E40AF; }
.badge.moved { background:#F3F4F6; color:#374151; }
.notices { background:#FFFBEB; border:1px solid #FDE68A; border-radius:10px; padding:12px 18px; \
margin:0 0 20px; }
.notices h2 { font-size:14px; margin:0 0 4px; color:#92400E; }
.notices ul { margin:0; padding-left:18px; }
.verdict-good { color:#166534; font-weight:600; }
.verdict-bad { color:#991B1B; font-weight:600; }
.cards { display:grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap:12px; \
margin-top:8px; }
.cards.one { grid-template-columns: 1fr; align-content:start; }
.card { border:1px solid var(--line); border-left:5px solid var(--c); border-radius:8px; padding:10px 12px; }
.card .label { overflow-wrap:anywhere; }
.card .stats { color:var(--muted); font-size:12px; margin-top:4px; }
.in-fused { color:var(--muted); font-size:11.5px; }
footer { color:var(--muted); font-size:12px; text-align:center; padding:0 0 32px; }
@media print { nav.toc { display:none; } section { break-inside: avoid; } }
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="recviz {version}">
<title>{title}</title>
<style>{css}</style>
<script>{plotlyjs}</script>
</head>
<body>
{body}
</body>
</html>
"""
