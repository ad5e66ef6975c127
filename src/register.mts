/**
 * `node --import jipper/register ...`: TypeScript for Node itself — the project's job libraries, config file and test
 * files load directly, through the same loader Jipper loads them with (jiti), resolved from Jipper's own dependencies,
 * so a project needs no TypeScript runner of its own. The scaffolded `npm test` runs Node's test runner this way.
 */
import 'jiti/register';
