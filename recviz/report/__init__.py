"""recviz.report: an Explanation as a self-contained HTML report or as JSON."""

from recviz.report.export import FORMATS, render_json, report_filename, write_report
from recviz.report.html import render_html

__all__ = ["FORMATS", "render_html", "render_json", "report_filename", "write_report"]
