// Validates ServiceMonitor and PrometheusRule documents (multi-document YAML files)
// with @kubernetes-models/prometheus-operator. Prints one line per document; exits 1
// on any invalid document, naming the file, kind and name.
//   node tools/k8s-models/validate.mjs FILE.yaml...
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { ServiceMonitor, PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

const KINDS = { ServiceMonitor, PrometheusRule };
let failed = 0;
let checked = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(readFileSync(file, 'utf8'))) {
    if (!doc || !KINDS[doc.kind]) continue;
    const what = `${file}: ${doc.kind}/${doc.metadata?.name}`;
    try {
      new KINDS[doc.kind](doc).validate();
      console.log(`${what}: valid`);
      checked += 1;
    } catch (e) {
      console.log(`${what}: INVALID: ${e.message}`);
      failed += 1;
    }
  }
}
console.log(`${checked} valid, ${failed} invalid`);
process.exit(failed > 0 || checked === 0 ? 1 : 0);
