// Last resort for test Redis: a container via Testcontainers, used only when a Docker engine
// answers. Loaded lazily so machines without Docker never pay for (or trip over) the import.
// UNTESTED HERE: the development machine has no Docker engine; this path is exercised only where one runs.

export interface ContainerRedis {
  /** Host and port can change after a restart (Docker maps a new host port). */
  url(): string;
  restart(hard: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** Null when a container runtime answers, else why not (for the "how to get Redis" message). */
export async function dockerUnavailableReason(): Promise<string | null> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export async function startContainerRedis(options: {
  image: string;
  aof: boolean;
  password: string | undefined;
}): Promise<ContainerRedis> {
  const { RedisContainer } = await import('@testcontainers/redis');
  const command = [
    'redis-server',
    ...['--save', '', '--appendonly', options.aof ? 'yes' : 'no', '--appendfsync', 'everysec'],
    ...['--maxmemory-policy', 'noeviction'],
  ];
  if (options.password !== undefined) command.push('--requirepass', options.password);
  const container = await new RedisContainer(options.image).withCommand(command).start();
  const url = () => {
    const u = new URL('redis://localhost');
    u.hostname = container.getHost();
    u.port = String(container.getPort());
    if (options.password !== undefined) u.password = options.password;
    return u.toString();
  };
  return {
    url,
    // timeout 0 makes `docker restart` SIGKILL at once (a crash); otherwise Redis gets 10 s to flush.
    restart: (hard) => container.restart({ timeout: hard ? 0 : 10_000 }),
    stop: async () => {
      await container.stop();
    },
  };
}
