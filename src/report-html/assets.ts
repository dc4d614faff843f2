/** The report page's own style and script, inlined: the file opens offline, with nothing fetched. */
export const REPORT_CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2330;background:#fafbfc}
h1{font-size:20px;margin:0}h2{font-size:16px;margin:24px 0 8px}h4{margin:8px 0 4px;font-size:13px}
.meta,.note{color:#5b6270;margin:4px 0}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:16px 0}
.card{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:8px 12px;min-width:90px}
.card .v{font-size:20px;font-weight:600}.card .l{color:#5b6270;font-size:12px}
.card.ok .v{color:#1a7f37}.card.bad .v{color:#c62828}.card.warn .v{color:#b26a00}
table{border-collapse:collapse;background:#fff;border:1px solid #dde1e7;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eef0f3;vertical-align:top}
th{background:#f3f5f8;font-size:12px;color:#3b4250}
.small{font-size:12px;color:#3b4250}.rp{font-family:ui-monospace,monospace;font-size:12px}.nm{color:#5b6270;font-size:12px}
.st{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;background:#eef0f3}
.st.migrated,.st.skipped,.st.verified,.st.verified-with-omissions{background:#dafbe1;color:#1a7f37}
.st.failed,.st.mismatch,.st.missing{background:#ffebe9;color:#c62828}.st.pending,.st.in_progress{background:#fff8c5;color:#7d4e00}
.filters{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin:8px 0}
.filters input,.filters select{font:inherit;padding:2px 4px}
#shown{color:#5b6270}
.spark{display:block;background:#f7f8fa;width:200px;height:40px}.spark polyline{fill:none;stroke-width:1.5}.spark .w{stroke:#2f6fdf}.spark .n{stroke:#e8710a;stroke-dasharray:3 2}
.mis b{color:#c62828}.exp b{color:#1a7f37}
code{font-size:12px}
`;

/**
 * Draws the runs from the page's JSON (one row each, the same for every run: status, written, left
 * out by reason, renames, damage, chart, details), then filters and search: rows hide and show by
 * their fields; the count says how many match.
 */
export const REPORT_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('data').textContent);
  var esc = function (s) { return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'); };
  var badge = function (s) { return s ? '<span class="st ' + esc(s) + '">' + esc(s) + '</span>' : ''; };
  var tbody = document.getElementById('runs');
  tbody.innerHTML = data.map(function (r, i) {
    var chart = r.c ? '<svg class="spark" viewBox="0 0 200 40" role="img"><title>' + esc(r.c.t) + '</title><polyline class="w" points="' + r.c.w + '"/>'
      + (r.c.n ? '<polyline class="n" points="' + r.c.n + '"/>' : '') + '</svg><div class="small">' + esc(r.c.path) + '</div>' : '';
    return '<tr class="run" data-i="' + i + '"><td><div class="rp">' + esc(r.p) + '</div><div class="nm">' + esc(r.nm) + '</div></td>'
      + '<td>' + badge(r.s) + '</td><td>' + badge(r.v) + '</td><td class="small">' + esc(r.w) + '</td>'
      + '<td class="small">' + r.o.map(function (o) { return esc(o[0]) + ' ' + o[1].toLocaleString('en-US'); }).join('<br>') + '</td>'
      + '<td class="small">' + (r.rn || '') + '</td><td class="small">' + (r.dm || '') + '</td><td>' + chart + '</td>'
      + '<td>' + (r.x ? '<details><summary>' + (r.mis ? 'mismatch details' : 'details') + '</summary>' + r.x + '</details>' : '') + '</td></tr>';
  }).join('');
  var q = document.getElementById('q');
  var sel = { status: document.getElementById('f-status'), verify: document.getElementById('f-verify'),
    project: document.getElementById('f-project'), reason: document.getElementById('f-reason') };
  var rows = Array.prototype.slice.call(tbody.querySelectorAll('tr.run'));
  var shown = document.getElementById('shown');
  function apply() {
    var text = q.value.trim().toLowerCase();
    var n = 0;
    rows.forEach(function (row, i) {
      var r = data[i];
      var ok = (!text || (r.p + ' ' + r.nm).toLowerCase().indexOf(text) !== -1)
        && (!sel.status.value || r.s === sel.status.value)
        && (!sel.verify.value || r.v === sel.verify.value)
        && (!sel.project.value || r.pr === sel.project.value)
        && (!sel.reason.value || r.o.some(function (o) { return o[0] === sel.reason.value; }));
      row.hidden = !ok;
      if (ok) n++;
    });
    shown.textContent = n + ' of ' + rows.length + ' runs';
  }
  q.addEventListener('input', apply);
  Object.keys(sel).forEach(function (k) { sel[k].addEventListener('change', apply); });
})();
`;
