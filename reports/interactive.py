"""The interactive edition's scripts: Vega, Vega-Lite and Vega-Embed, inlined.

The libraries come from vl-convert (``javascript_bundle()``: the same Vega versions that
draw the static SVG, shipped inside the Python package), so the page needs no CDN and no
request leaves it. Bundling takes several seconds, so the bundle is kept in the cache
folder (``$CUST_CACHE_DIR``, ``$XDG_CACHE_HOME/cust`` or ``~/.cache/cust``) under the
vl-convert version, and in memory for the rest of the run.
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path

# Where the page's own script may not reach: Content-Security-Policy of the interactive
# edition (Vega compiles its expressions with Function(), hence 'unsafe-eval'). With
# default-src 'none' and no connect-src the browser refuses any fetch, image or font from
# outside the page.
CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
       "style-src 'unsafe-inline'; img-src data:; font-src data:; "
       "base-uri 'none'; form-action 'none'")
STATIC_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
              "base-uri 'none'; form-action 'none'")


@lru_cache(maxsize=1)
def vega_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed as one script, ``</script`` made harmless."""
    import vl_convert

    from cust.pipelines.io.cache import default_dir

    version = getattr(vl_convert, "__version__", "") or vl_convert.get_vega_version()
    path = default_dir() / f"vega-bundle-{version}.js"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    text = vl_convert.javascript_bundle().replace("</script", "<\\/script")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".vega-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        Path(tmp).replace(path)
    except OSError:
        pass  # a read-only cache only costs the next run the bundling again
    return text


# The page's own script: draw every chart from its JSON specification (SVG renderer,
# tooltips by vega-tooltip, no action menu: its links would leave the page), sortable
# tables, and opening an alert's breakdown when its link is followed.
BOOT = r"""
(function () {
  "use strict";
  var done = 0, failed = 0, charts = document.querySelectorAll("div.vega[data-spec]");
  document.body.setAttribute("data-charts", "0/" + charts.length);
  charts.forEach(function (el) {
    var spec = JSON.parse(document.getElementById(el.getAttribute("data-spec")).textContent);
    vegaEmbed(el, spec, {renderer: "svg", actions: false, tooltip: {theme: "light"},
                         formatLocale: window.CUST_FORMAT, timeFormatLocale: window.CUST_TIME})
      .then(function () { done += 1; })
      .catch(function (e) { failed += 1; el.textContent = String(e); })
      .finally(function () {
        document.body.setAttribute("data-charts", done + "/" + charts.length);
        if (failed) { document.body.setAttribute("data-chart-errors", String(failed)); }
      });
  });
  function key(td) {
    var v = td.getAttribute("data-value");
    if (v !== null && v !== "") { return [0, parseFloat(v), ""]; }
    return [td.textContent.trim() === "—" ? 2 : 1, 0, td.textContent.trim()];
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, i) {
      th.setAttribute("tabindex", "0");
      th.setAttribute("aria-sort", "none");
      function sort() {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[i]), y = key(b.cells[i]);
          if (x[0] !== y[0]) { return x[0] - y[0]; }
          var c = x[0] === 0 ? x[1] - y[1] : x[2].localeCompare(y[2]);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
      });
    });
  });
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.open = true; }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
})();
"""
