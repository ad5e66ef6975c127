/**
 * docker-compose.yml cannot run here (no Docker engine), so this checks what it promises: the services, the worker's
 * entrypoint and address, and the setup step registering exactly Jipper's search attributes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { JIPPER_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';

const root = join(__dirname, '..', '..');

const serviceSchema = z.object({
  image: z.string().optional(),
  build: z.union([z.string(), z.object({ context: z.string(), dockerfile: z.string().optional() })]).optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  environment: z.union([z.record(z.string(), z.string()), z.array(z.string())]).optional(),
  depends_on: z.union([z.array(z.string()), z.record(z.string(), z.object({ condition: z.string() }))]).optional(),
});
const composeSchema = z.object({ services: z.record(z.string(), serviceSchema) });

// Compose resolves YAML merge keys (`<<: *anchor`); YAML 1.2 parsers need `merge: true` for that.
const compose = composeSchema.parse(parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }));

function service(name: string): z.infer<typeof serviceSchema> {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

function environment(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  if (!Array.isArray(env)) return env;
  const entries: Record<string, string> = {};
  for (const entry of env) {
    const [key = '', ...value] = entry.split('=');
    entries[key] = value.join('=');
  }
  return entries;
}

/** The CMD of a Dockerfile's last stage, in exec form, as one command line. */
function dockerfileCmd(path: string): string {
  const cmds = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => /^CMD\s/.test(line));
  const last = cmds.pop();
  if (last === undefined) throw new Error(`${path} has no CMD`);
  return z
    .array(z.string())
    .parse(JSON.parse(last.replace(/^CMD\s+/, '')))
    .join(' ');
}

describe('docker-compose.yml', () => {
  it('has PostgreSQL, the schema and setup steps, Temporal, its Web UI and the Jipper worker', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['jipper-worker', 'postgresql', 'temporal', 'temporal-schema', 'temporal-setup', 'temporal-ui'].sort()
    );
    expect(service('temporal').image).toMatch(/^temporalio\/server:/);
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:/);
    expect(service('temporal-schema').image).toMatch(/^temporalio\/admin-tools:/);
    expect(service('postgresql').image).toMatch(/^postgres:/);
  });

  it('runs the worker as `node dist/worker/main.js` against temporal:7233', () => {
    const worker = service('jipper-worker');
    const command =
      worker.command !== undefined
        ? [worker.command].flat().join(' ')
        : dockerfileCmd(
            join(root, typeof worker.build === 'string' ? worker.build : (worker.build?.context ?? '.'), 'Dockerfile')
          );
    expect(command).toBe('node dist/worker/main.js');
    expect(environment('jipper-worker')).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233' });
    expect(worker.depends_on).toMatchObject({ 'temporal-setup': { condition: 'service_completed_successfully' } });
  });

  it("registers Jipper's search attributes, and only after Temporal is healthy", () => {
    const setup = service('temporal-setup');
    const script = [setup.command ?? ''].flat().join('\n');
    expect(script).toContain('for name in ' + JIPPER_SEARCH_ATTRIBUTES.map((key) => key.name).join(' ') + ';');
    expect(new Set(JIPPER_SEARCH_ATTRIBUTES.map((key) => key.type))).toEqual(new Set(['KEYWORD']));
    expect(script).toContain('--type Keyword');
    expect(setup.depends_on).toMatchObject({ temporal: { condition: 'service_healthy' } });
  });

  it('builds the worker from an entrypoint that exists in the repository', () => {
    expect(existsSync(join(root, 'src', 'worker', 'main.ts'))).toBe(true);
  });
});
