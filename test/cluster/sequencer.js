/**
 * Runs the cluster suite in a fixed order: the integration files first (a healthy cluster), then the cluster's own
 * tests by name (cluster, scale-out, faults, rolling-deploy), so the fault tests' kills come after the rest.
 */
const Sequencer = require('@jest/test-sequencer').default;

const ORDER = ['cluster.cluster', 'scale-out.cluster', 'faults.cluster', 'rolling-deploy.cluster'];

function rank(path) {
  const index = ORDER.findIndex((name) => path.endsWith(`/${name}.test.ts`));
  return index === -1 ? -1 : index;
}

class ClusterSequencer extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
  }
}

module.exports = ClusterSequencer;
