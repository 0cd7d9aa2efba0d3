// Tests of deploy/k8s (parsed, never applied), registered by compose.test.ts: every Deployment has probes,
// resources and an environment the config loader accepts; each ScaledObject targets a real agent Deployment.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadConfig } from '@nightshift/config';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { readRepoFile, repoRoot, TEST_SECRETS, unavailable } from './compose-fixtures.js';
import { type Container, loadManifests, type Manifest, podSpec, resolveEnv } from './compose-k8s.js';
import { LONGEST_ROLE_TIMEOUT_SECONDS, NIGHTSHIFT_SERVICES, WORKER_ROLES } from './compose-rules.js';

const K8S = join(repoRoot, 'deploy/k8s');

function entryOf(name: string): string {
  return (WORKER_ROLES as readonly string[]).includes(name) ? 'agent' : name;
}

export function registerK8sSuite(): void {
  describe('deploy/k8s (kustomize base, parsed)', () => {
    const manifests = loadManifests(K8S);
    const find = (kind: string, name: string) =>
      manifests.find((m) => m.kind === kind && m.metadata.name === name);
    const configMap = find('ConfigMap', 'nightshift-config');
    const exampleSecret = find('Secret', 'nightshift-secrets');
    // The example Secret as a user would fill it in.
    const secrets: Record<string, string> = { ...exampleSecret?.stringData, ...TEST_SECRETS };

    it('lists every manifest file in kustomization.yaml except the Secret template', () => {
      const kustomization = parse(readRepoFile('deploy/k8s/kustomization.yaml')) as { resources: string[] };
      const files = [...new Set(manifests.map((m) => m.file))].filter((f) => f !== 'secret.example.yaml');
      expect([...kustomization.resources].sort()).toEqual(files.sort());
      expect(exampleSecret?.file).toBe('secret.example.yaml');
      expect(Object.values(exampleSecret?.stringData ?? {}).every((value) => value === '')).toBe(true);
      expect(Object.keys(exampleSecret?.stringData ?? {})).toEqual(
        expect.arrayContaining(['REDIS_PASSWORD', 'DASHBOARD_TOKEN', 'ANTHROPIC_API_KEY']),
      );
    });

    it('runs Redis as a StatefulSet with AOF everysec, noeviction and the password from the Secret', () => {
      const redis = find('StatefulSet', 'redis');
      const container = podSpec(redis as Manifest).containers[0] as Container;
      const args = (container.args ?? []).join(' ');
      expect(args).toContain('--appendonly yes');
      expect(args).toContain('--appendfsync everysec');
      expect(args).toContain('--maxmemory-policy noeviction');
      expect(args).toContain('--requirepass $(REDIS_PASSWORD)');
      expect(resolveEnv(container, manifests, secrets).env.REDIS_PASSWORD).toBe(TEST_SECRETS.REDIS_PASSWORD);
      expect(find('Service', 'redis')).toBeDefined();
    });

    it('runs Ollama on a GPU with the same parallel/queue settings the services get', () => {
      const ollama = podSpec(find('Deployment', 'ollama') as Manifest).containers[0] as Container;
      expect(ollama.resources?.limits?.['nvidia.com/gpu']).toBeDefined();
      const env = resolveEnv(ollama, manifests, secrets).env;
      for (const key of ['OLLAMA_NUM_PARALLEL', 'OLLAMA_MAX_QUEUE', 'OLLAMA_KEEP_ALIVE']) {
        expect(env[key]).toBe(configMap?.data?.[key]);
      }
      expect(configMap?.data?.OLLAMA_NUM_PARALLEL).toBe('2');
      expect(find('Job', 'ollama-pull')).toBeDefined();
    });

    describe.each(NIGHTSHIFT_SERVICES)('Deployment %s', (name) => {
      const deployment = find('Deployment', name);
      const spec = deployment === undefined ? { containers: [] } : podSpec(deployment);
      const container = spec.containers[0];

      it('exists, runs its entry file through the image entrypoint, and has probes and resources', () => {
        expect(deployment).toBeDefined();
        expect(container?.image).toBe('nightshift');
        expect(container?.command).toBeUndefined(); // `command` would replace tini
        expect(container?.args).toEqual(['node', `services/${entryOf(name)}/dist/main.js`]);
        const health = container?.ports?.find((p) => p.name === 'health');
        expect(String(health?.containerPort)).toBe(configMap?.data?.HEALTH_PORT);
        for (const probe of [container?.readinessProbe, container?.livenessProbe]) {
          expect(probe).toMatchObject({ httpGet: { path: '/healthz', port: 'health' } });
        }
        expect(container?.resources?.requests?.cpu).toBeDefined();
        expect(container?.resources?.requests?.memory).toBeDefined();
        expect(container?.resources?.limits?.memory).toBeDefined();
      });

      it('gets an environment the config loader accepts, with REDIS_URL carrying the password', () => {
        const { env, problems } = resolveEnv(container as Container, manifests, secrets);
        expect(problems).toEqual([]);
        expect(env.REDIS_URL).toBe(`redis://:${TEST_SECRETS.REDIS_PASSWORD}@redis:6379`);
        expect(env.HEALTH_PORT).toBe('9464');
        if ((WORKER_ROLES as readonly string[]).includes(name)) expect(env.ROLE).toBe(name);
        if (name === 'dashboard') {
          expect(env.DASHBOARD_HOST).toBe('0.0.0.0');
          expect(env.DASHBOARD_TOKEN).toBe(TEST_SECRETS.DASHBOARD_TOKEN);
        }
        // Only the Director holds the Anthropic key.
        expect(env.ANTHROPIC_API_KEY !== undefined).toBe(name === 'director');
        expect(() => loadConfig(env, { cwd: repoRoot })).not.toThrow();
      });

      it('lets an agent finish its longest task before it is killed', () => {
        const grace = Number(spec.terminationGracePeriodSeconds);
        if ((WORKER_ROLES as readonly string[]).includes(name))
          expect(grace).toBeGreaterThan(LONGEST_ROLE_TIMEOUT_SECONDS);
        else expect(grace).toBeGreaterThan(0);
      });
    });

    it('exposes the dashboard through a Service, its token from the Secret', () => {
      const service = find('Service', 'dashboard');
      const dashboard = find('Deployment', 'dashboard') as Manifest;
      const template = dashboard.spec?.template as
        | { metadata?: { labels?: Record<string, string> } }
        | undefined;
      const labels = template?.metadata?.labels ?? {};
      expect(Object.keys(labels)).not.toEqual([]);
      expect(service?.spec?.selector).toEqual(expect.objectContaining(labels));
      const container = podSpec(dashboard).containers[0] as Container;
      const token = container.env?.find((e) => e.name === 'DASHBOARD_TOKEN');
      expect(token?.valueFrom?.secretKeyRef).toEqual({ name: 'nightshift-secrets', key: 'DASHBOARD_TOKEN' });
    });

    it('autoscales each agent Deployment with a KEDA ScaledObject on its BullMQ queue keys', () => {
      const scaled = manifests.filter((m) => m.kind === 'ScaledObject');
      expect(scaled.map((s) => s.metadata.name).sort()).toEqual([...WORKER_ROLES].sort());
      const prefix = configMap?.data?.NIGHTSHIFT_PREFIX;
      for (const object of scaled) {
        const spec = object.spec as {
          scaleTargetRef: { name: string };
          minReplicaCount: number;
          maxReplicaCount: number;
          triggers: Array<{
            type: string;
            metadata: Record<string, string>;
            authenticationRef: { name: string };
          }>;
        };
        const target = find('Deployment', spec.scaleTargetRef.name);
        expect(target, `${object.metadata.name} targets a Deployment that exists`).toBeDefined();
        const role = resolveEnv(podSpec(target as Manifest).containers[0] as Container, manifests, secrets)
          .env.ROLE;
        expect(role).toBe(spec.scaleTargetRef.name);
        expect(spec.minReplicaCount).toBeGreaterThanOrEqual(1);
        expect(spec.maxReplicaCount).toBeGreaterThanOrEqual(spec.minReplicaCount);
        // BullMQ 5: prioritized jobs wait in a zset, the others in the wait list; watch both.
        const keys = spec.triggers.map((t) => t.metadata.listName).sort();
        expect(keys).toEqual([`${prefix}:agent.${role}:prioritized`, `${prefix}:agent.${role}:wait`]);
        for (const trigger of spec.triggers) {
          expect(trigger.type).toBe('redis');
          expect(trigger.metadata.listLength).toBe('5');
          expect(find('TriggerAuthentication', trigger.authenticationRef.name)).toBeDefined();
        }
      }
    });

    const noKubectl = unavailable('kubectl', ['version', '--client']);
    if (noKubectl !== null) console.warn(`[compose.test] skipping \`kubectl kustomize\`: ${noKubectl}`);
    it.skipIf(noKubectl !== null)('renders with `kubectl kustomize` into the nightshift namespace', () => {
      const result = spawnSync('kubectl', ['kustomize', K8S], { encoding: 'utf8', timeout: 60_000 });
      expect(result.status, result.stderr).toBe(0);
      const kinds = [...result.stdout.matchAll(/^kind: (\w+)$/gm)].map((m) => m[1]);
      expect(kinds.filter((k) => k === 'Deployment')).toHaveLength(NIGHTSHIFT_SERVICES.length + 1);
      expect(kinds).not.toContain('Secret');
      expect(result.stdout).toMatch(/namespace: nightshift/);
    });

    it("the sandbox Component targets exactly the agents, with compose's seccomp profile and an unmasked /proc", () => {
      const component = parse(readRepoFile('deploy/k8s/sandbox/kustomization.yaml')) as {
        kind: string;
        patches: { path: string; target: { kind: string; labelSelector: string } }[];
      };
      expect(component.kind).toBe('Component');
      const [patch] = component.patches;
      const roles = /in \(([^)]*)\)/.exec(patch?.target.labelSelector ?? '')?.[1]?.split(',');
      expect(roles?.sort()).toEqual([...WORKER_ROLES].sort());
      const body = parse(readRepoFile(`deploy/k8s/sandbox/${patch?.path}`)) as Manifest;
      const spec = podSpec(body);
      expect(spec.hostUsers).toBe(false);
      expect(spec.securityContext?.seccompProfile).toEqual({
        type: 'Localhost',
        localhostProfile: 'nightshift/seccomp-bwrap.json',
      });
      expect(spec.containers[0]?.securityContext).toMatchObject({
        procMount: 'Unmasked',
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      // The profile it names is the one docker-compose.yml gives the agents.
      expect(readRepoFile('docker-compose.yml')).toContain('seccomp=deploy/seccomp-bwrap.json');
    });

    it.skipIf(noKubectl !== null)(
      'an overlay with the sandbox Component renders it onto the five agents only',
      () => {
        const overlay = mkdtempSync(join(tmpdir(), 'ns-k8s-overlay-'));
        try {
          const base = relative(overlay, K8S);
          writeFileSync(
            join(overlay, 'kustomization.yaml'),
            `resources: [${base}]\ncomponents: [${join(base, 'sandbox')}]\n`,
          );
          const result = spawnSync('kubectl', ['kustomize', overlay], { encoding: 'utf8', timeout: 60_000 });
          expect(result.status, result.stderr).toBe(0);
          const deployments = parseAllDocuments(result.stdout)
            .map((d) => d.toJS() as Manifest)
            .filter((m) => m.kind === 'Deployment');
          const sandboxed = deployments
            .filter((m) => podSpec(m).securityContext?.seccompProfile?.type === 'Localhost')
            .map((m) => m.metadata.name);
          expect(sandboxed.sort()).toEqual([...WORKER_ROLES].sort());
          for (const m of deployments.filter((d) => sandboxed.includes(d.metadata.name))) {
            expect(podSpec(m).hostUsers, m.metadata.name).toBe(false);
            expect(podSpec(m).containers[0]?.securityContext?.procMount, m.metadata.name).toBe('Unmasked');
            // The base's settings survive the patch: the probes and the image's user.
            expect(podSpec(m).containers[0]?.readinessProbe, m.metadata.name).toBeDefined();
            expect(podSpec(m).securityContext?.runAsUser, m.metadata.name).toBe(1000);
          }
        } finally {
          rmSync(overlay, { recursive: true, force: true });
        }
      },
    );
  });
}
