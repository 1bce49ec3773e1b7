// Type-checks Grafana dashboard JSON files against Grafana's own schema types
// (@grafana/schema): the dashboard, every panel, and each panel's options (and
// time series field config) against its panel type. Errors name the panel.
//
//   node tools/grafana-schema/check.mjs dashboards/*.json
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const composable = '@grafana/schema/dist/esm/raw/composable';
// Panel type -> [options type, field config type or null]
const PANEL_TYPES = {
  stat: ['StatOptions', null],
  timeseries: ['TimeSeriesOptions', 'TimeSeriesFieldConfig'],
  text: ['TextOptions', null],
  table: ['TableOptions', 'TableFieldConfig'],
  'state-timeline': ['StateTimelineOptions', 'StateTimelineFieldConfig'],
};
const HEADER = `import type { AnnotationQuery, Dashboard, Panel, RowPanel } from '@grafana/schema';
import type { Options as StatOptions } from '${composable}/stat/panelcfg/x/StatPanelCfg_types.gen';
import type { Options as TimeSeriesOptions, FieldConfig as TimeSeriesFieldConfig } from '${composable}/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import type { Options as TextOptions } from '${composable}/text/panelcfg/x/TextPanelCfg_types.gen';
import type { Options as TableOptions, FieldConfig as TableFieldConfig } from '${composable}/table/panelcfg/x/TablePanelCfg_types.gen';
import type { Options as StateTimelineOptions, FieldConfig as StateTimelineFieldConfig } from '${composable}/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen';
// JSON cannot hold TypeScript enums: map each enum to its literal values.
type Jsonify<T> =
  T extends string ? \`\${T}\` :
  T extends number | boolean | null | undefined ? T :
  T extends Array<infer U> ? Array<Jsonify<U>> :
  T extends object ? { [K in keyof T]: Jsonify<T[K]> } :
  T;
`;

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node check.mjs DASHBOARD.json...');
  process.exit(64);
}

const work = mkdtempSync(join(here, '.check-'));
const sources = []; // { ts, file, blocks: [{from, to, label}] }
let problems = [];
let panelCount = 0;

for (const file of files) {
  const dashboard = JSON.parse(readFileSync(file, 'utf8'));
  const lines = HEADER.split('\n');
  const blocks = [];
  const emit = (label, code) => {
    const from = lines.length + 1;
    lines.push(...code.split('\n'));
    blocks.push({ from, to: lines.length, label });
  };
  const names = [];
  const topLevel = [];
  const walk = (panels, depth) => {
    for (const p of panels ?? []) {
      panelCount += 1;
      const label = `panel ${p.id} "${p.title}"`;
      const name = `panel_${names.length}`;
      names.push(name);
      if (depth === 0) topLevel.push(name);
      if (p.type === 'row') {
        const { panels: nested, ...row } = p;
        emit(label, `const ${name} = ${JSON.stringify({ ...row, panels: [] }, null, 2)} satisfies Jsonify<RowPanel>;`);
        walk(nested, depth + 1);
        continue;
      }
      emit(label, `const ${name} = ${JSON.stringify(p, null, 2)} satisfies Jsonify<Panel>;`);
      const types = PANEL_TYPES[p.type];
      if (!types) {
        problems.push(`${file}: ${label}: no schema for panel type "${p.type}" (known: ${Object.keys(PANEL_TYPES).join(', ')})`);
        continue;
      }
      emit(`${label} options`, `const ${name}_options = ${JSON.stringify(p.options ?? {}, null, 2)} satisfies Jsonify<${types[0]}>;`);
      if (types[1]) {
        emit(`${label} fieldConfig.defaults.custom`,
          `const ${name}_custom = ${JSON.stringify(p.fieldConfig?.defaults?.custom ?? {}, null, 2)} satisfies Jsonify<${types[1]}>;`);
      }
    }
  };
  walk(dashboard.panels, 0);
  // Annotation queries: Grafana's schema leaves them open to the datasource's own
  // query fields (a Prometheus query's expr, step, titleFormat...), which the
  // generated types cannot list; the fields they do list must still match.
  const annotations = (dashboard.annotations?.list ?? []).map((a, i) => {
    const name = `annotation_${i}`;
    emit(`annotation "${a.name}"`,
      `const ${name} = ${JSON.stringify(a, null, 2)} satisfies Jsonify<AnnotationQuery> & { [field: string]: unknown };`);
    return name;
  });
  // Panels and annotations by reference here: each literal was checked above.
  const { panels: _panels, annotations: _annotations, ...rest } = dashboard;
  const body = JSON.stringify({ ...rest, annotations: { list: '__ANNOTATIONS__' }, panels: '__PANELS__' }, null, 2)
    .replace('"__PANELS__"', `[${topLevel.join(', ')}]`)
    .replace('"__ANNOTATIONS__"', `[${annotations.join(', ')}]`);
  emit('dashboard', `export const dashboard = ${body} satisfies Jsonify<Dashboard>;`);
  const ts = join(work, `${basename(file, '.json')}.ts`);
  writeFileSync(ts, lines.join('\n') + '\n');
  sources.push({ ts, file, blocks });
}

let output = '';
try {
  execFileSync(join(here, 'node_modules/.bin/tsc'), [
    '--noEmit', '--strict', '--skipLibCheck', '--moduleResolution', 'bundler', '--module', 'esnext',
    '--target', 'es2022', '--pretty', 'false', ...sources.map((s) => s.ts),
  ], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
} catch (e) {
  output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  if (!output.trim()) throw e;
}

// tsc: "path(line,col): error TSxxxx: message", details on indented lines after.
let current = null;
for (const line of output.split('\n')) {
  const m = line.match(/^(.*)\((\d+),(\d+)\): error (TS\d+): (.*)$/);
  if (m) {
    const source = sources.find((s) => m[1].endsWith(basename(s.ts)));
    const at = Number(m[2]);
    const block = source?.blocks.find((b) => at >= b.from && at <= b.to);
    const where = block ? block.label : `line ${at}`;
    current = `${source ? source.file : m[1]}: ${where}: ${m[4]}: ${m[5]}`;
    problems.push(current);
  } else if (current && line.trim()) {
    problems[problems.length - 1] += `\n    ${line.trim()}`;
  }
}
rmSync(work, { recursive: true, force: true });

if (problems.length > 0) {
  console.error(problems.join('\n'));
  console.error(`${problems.length} problem(s) in ${files.length} dashboard(s)`);
  process.exit(1);
}
console.log(`OK: ${files.length} dashboard(s), ${panelCount} panel(s) match Grafana's schema`);
