/**
 * A job library for the deploy-check tests (test/integration/check-deploy.test.ts), loaded both by the test's
 * in-process workers and by the `jipper` command (JIPPER_LIBRARIES): plain CommonJS on the built package. `step` holds
 * its run while `held` is set (a process stays in flight for as long as the test needs); DEPLOY_JOBS_TIMEOUT changes its
 * default timeout — the same job with the same shape, whose meaning changed, as a new release of a library would.
 */
const { z } = require('zod');
const { defineJob, defineLibrary } = require('../../dist/index.js');

const state = { held: true };

const step = defineJob({
  name: 'step',
  input: z.object({ hold: z.boolean().optional() }),
  options: { timeout: process.env.DEPLOY_JOBS_TIMEOUT || '2m' },
  async run(input, ctx) {
    while (input.hold && state.held) {
      ctx.heartbeat();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { step: ctx.stepId };
  },
  async revert() {},
});

module.exports = { library: defineLibrary('deploy-jobs', [step]), state };
