// Loaded (node --require) into Stryker's processes by `npm run mutation`.
//
// Stryker 10 supports mocha 12 but needs Node 22; this project runs on Node
// 20, so it uses Stryker 9, whose mocha runner requires mocha's CLI helpers
// by their old names (lib/cli/run-helpers, lib/cli/options). Mocha 12 ships
// them as .cjs files, which require() does not try without this line. Drop
// this file, the override in package.json and the --require flags once the
// project is on Node 22 and Stryker 10.
require.extensions[".cjs"] = require.extensions[".js"];
