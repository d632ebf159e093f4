// A policy pack for the local-files test blueprint: one mandatory and one advisory policy that a
// test triggers through the spec. CommonJS, so that it loads without a TypeScript loader, and with
// `@pulumi/policy` resolved from the repository's node_modules.
/* eslint @typescript-eslint/no-require-imports: "off" */
/* global require */
'use strict';
const { PolicyPack } = require('@pulumi/policy');

new PolicyPack('local-files-guard', {
  policies: [
    {
      name: 'pool-size-limit',
      description: 'A node pool has at most `maxSize` nodes.',
      enforcementLevel: 'mandatory',
      configSchema: { properties: { maxSize: { type: 'integer', default: 50 } } },
      validateResource: (args, reportViolation) => {
        if (args.type !== 'pulumi-nodejs:dynamic/local-files:NodePool') return;
        const { maxSize } = args.getConfig();
        if (args.props.size > maxSize)
          reportViolation(`node pool ${args.props.name} has ${args.props.size} nodes; at most ${maxSize} are allowed`);
      },
    },
    {
      name: 'cluster-owner-tag',
      description: 'A cluster carries an `owner` tag.',
      enforcementLevel: 'advisory',
      validateResource: (args, reportViolation) => {
        if (args.type !== 'pulumi-nodejs:dynamic/local-files:Cluster') return;
        if (!args.props.tags?.owner) reportViolation(`cluster ${args.props.name} has no owner tag`);
      },
    },
  ],
});
