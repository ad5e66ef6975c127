/**
 * The workflows of a worker that runs code-first processes besides definitions: Jipper's own workflows and the
 * example code-first one. A team's worker bundles a file like this (with `jipperWorkflowInterceptorModules()`) and
 * passes the bundle as `workflowBundlePath`; the example test does exactly that.
 */
export * from '../src/workflows';
export { provisionVolumeCodeFirst } from './provision-volume-code-first';
