// clusterd's example policy pack for the built-in eks and gke blueprints; see README.md.
/* eslint @typescript-eslint/no-require-imports: "off" */
/* global require */
'use strict';
const { PolicyPack } = require('@pulumi/policy');
const { endpointNotOpenToTheInternet, nodePoolMaxSize, gkePrivateNodes } = require('./policies.js');

new PolicyPack('clusterd-baseline', { policies: [endpointNotOpenToTheInternet, nodePoolMaxSize, gkePrivateNodes] });
