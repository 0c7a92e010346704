/**
 * The layers of src/, highest first: a module may import its own folder and any layer below
 * its own, never one above, and a feature never imports another feature (they meet only in
 * server/, the composition root). Type-only imports count too. docs/architecture.md explains
 * the order.
 */
const LAYERS = [
  ['cli'],
  ['server'],
  ['index'],
  ['admin', 'channel', 'outgoing', 'scheduler', 'lb', 'deployment', 'observability'],
  ['security'],
  ['feature'],
  ['config', 'service', 'http'],
  ['broker', 'odb', 'stats', 'trace'],
  ['log'],
  ['util'],
  ['errors'],
];

const folder = (name) => `^src/${name}(/|\\.ts$)`;
const rules = [];
LAYERS.forEach((layer, depth) => {
  const above = LAYERS.slice(0, depth).flat();
  for (const name of layer) {
    if (above.length > 0) {
      rules.push({
        name: `layer-${name}`,
        comment: `${name} may not import a layer above it (${above.join(', ')})`,
        severity: 'error',
        from: { path: folder(name) },
        to: { path: `^src/(${above.join('|')})(/|\\.ts$)` },
      });
    }
    const peers = layer.filter((other) => other !== name);
    if (peers.length > 0) {
      rules.push({
        name: `peer-${name}`,
        comment: `${name} may not import its peers (${peers.join(', ')}): they meet in server/`,
        severity: 'error',
        from: { path: folder(name) },
        to: { path: `^src/(${peers.join('|')})(/|\\.ts$)` },
      });
    }
  }
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'no import cycles between files',
      from: {},
      to: { circular: true },
    },
    {
      name: 'src-not-to-test',
      severity: 'error',
      comment: 'the product never imports tests or benchmarks',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'every-folder-in-a-layer',
      severity: 'error',
      comment: 'a new folder of src/ takes its place in LAYERS above',
      from: { path: '^src/', pathNot: `^src/(${LAYERS.flat().join('|')})(/|\\.ts$)` },
      to: {},
    },
    ...rules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
