// Draws a dashboard's panel grid as HTML (for a screenshot in the README: Grafana
// itself cannot run on the build machines).
//   node tools/grafana-schema/layout.mjs dashboards/slogate-overview.json > layout.html
import { readFileSync } from 'node:fs';

const d = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const col = 52;
const row = 26;
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
const colours = { stat: '#e8f3ff', timeseries: '#eefbea', text: '#fff8e1', table: '#fdeee8', 'state-timeline': '#f3ecfb', row: '#d0d7de' };
let boxes = '';
let bottom = 0;
for (const p of d.panels) {
  const g = p.gridPos;
  bottom = Math.max(bottom, g.y + g.h);
  const expr = (p.targets ?? [])[0]?.expr ?? '';
  const note = p.type === 'row'
    ? (p.repeat ? `repeated for each $${p.repeat}` : '')
    : `${p.type}${p.fieldConfig?.defaults?.unit ? ' · ' + p.fieldConfig.defaults.unit : ''}`;
  boxes += `<div class="p ${p.type}" style="left:${g.x * col}px;top:${g.y * row}px;width:${g.w * col - 6}px;height:${g.h * row - 6}px;background:${colours[p.type] ?? '#eee'}">
    <b>${esc(p.title)}</b> <span>${esc(note)}</span>${p.type === 'row' ? '' : `<code>${esc(expr.slice(0, 160))}</code>`}</div>`;
}
console.log(`<!doctype html><html><head><meta charset="utf-8"><style>
body{font-family:system-ui,sans-serif;margin:16px;color:#1f2328}
.grid{position:relative;width:${24 * col}px;height:${bottom * row}px}
.p{position:absolute;border:1px solid #8c959f;border-radius:4px;padding:4px 6px;overflow:hidden;font-size:12px}
.p span{color:#57606a;font-size:11px}
.p code{display:block;margin-top:4px;font-size:10px;color:#57606a;white-space:pre-wrap;word-break:break-all}
.row{font-size:13px}
</style></head><body><h3>${esc(d.title)} <small>(uid ${esc(d.uid)}; variables: ${d.templating.list.map((v) => '$' + v.name).join(', ')})</small></h3>
<div class="grid">${boxes}</div></body></html>`);
