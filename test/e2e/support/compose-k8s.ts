// Reads the Kubernetes manifests under deploy/k8s and resolves what a container's environment would be
// (envFrom ConfigMaps, env with $(VAR) expansion, Secrets by key), so tests can check them without a cluster.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  /** The file it came from, relative to the manifest folder. */
  file: string;
}

/** Every document of every .yaml file in `dir` (kustomization.yaml excluded). @throws on a YAML error. */
export function loadManifests(dir: string): Manifest[] {
  const manifests: Manifest[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) continue;
      manifests.push({ ...(value as Omit<Manifest, 'file'>), file });
    }
  }
  return manifests;
}

export interface EnvVarSource {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
  };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVarSource[];
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: Record<string, unknown>;
  livenessProbe?: Record<string, unknown>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    procMount?: string;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
}

export interface PodSpec {
  containers: Container[];
  hostUsers?: boolean;
  securityContext?: { runAsUser?: number; seccompProfile?: { type: string; localhostProfile?: string } };
  [key: string]: unknown;
}

export function podSpec(workload: Manifest): PodSpec {
  const template = (workload.spec?.template ?? {}) as { spec?: Partial<PodSpec> };
  return { containers: [], ...template.spec };
}

export interface ResolvedEnv {
  env: Record<string, string>;
  /** Problems: a reference to a ConfigMap/Secret or key that does not exist. */
  problems: string[];
}

/**
 * The environment a container would get. Secret values are taken from `secrets` (e.g. the example
 * Secret, filled with test values); `$(VAR)` expands against variables defined before it, as in Kubernetes.
 */
export function resolveEnv(
  container: Container,
  manifests: readonly Manifest[],
  secrets: Record<string, string>,
): ResolvedEnv {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  const configMap = (name: string) =>
    manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === name);
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef !== undefined) {
      const map = configMap(source.configMapRef.name);
      if (map === undefined) problems.push(`envFrom ConfigMap ${source.configMapRef.name} does not exist`);
      Object.assign(env, map?.data);
    }
    if (source.secretRef !== undefined) Object.assign(env, secrets);
  }
  for (const variable of container.env ?? []) {
    const { secretKeyRef, configMapKeyRef } = variable.valueFrom ?? {};
    if (variable.value !== undefined) {
      env[variable.name] = variable.value.replace(
        /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
        (whole, name: string) => env[name] ?? whole,
      );
    } else if (secretKeyRef !== undefined) {
      const value = secrets[secretKeyRef.key];
      if (value === undefined && secretKeyRef.optional !== true) {
        problems.push(`${variable.name}: Secret key ${secretKeyRef.name}/${secretKeyRef.key} does not exist`);
      }
      if (value !== undefined) env[variable.name] = value;
    } else if (configMapKeyRef !== undefined) {
      const value = configMap(configMapKeyRef.name)?.data?.[configMapKeyRef.key];
      if (value === undefined && configMapKeyRef.optional !== true) {
        problems.push(
          `${variable.name}: ConfigMap key ${configMapKeyRef.name}/${configMapKeyRef.key} does not exist`,
        );
      }
      if (value !== undefined) env[variable.name] = value;
    }
  }
  return { env, problems };
}
