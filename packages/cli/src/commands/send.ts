// `nightshift send`: publish one message on the bus (a REQUEST becomes a job for that agent).
import {
  MESSAGE_TYPES,
  type Message,
  MessageSchema,
  newId,
  PRIORITIES,
  problemsFrom,
  RecipientSchema,
  SenderSchema,
} from '@nightshift/protocol';
import { type Command, Option } from 'commander';
import { type CliDeps, withBus } from '../deps.js';
import { parseId } from '../options.js';

interface SendOptions {
  to: Message['to'];
  type: Message['type'];
  from: Message['from'];
  priority: Message['priority'];
  run?: string;
  context?: string;
  expected?: string;
  inReplyTo?: string;
  phase?: string;
  json?: boolean;
}

/** Wire field → the option a user typed, so a schema problem names the option. */
const OPTION_OF: Record<string, string> = {
  content: '<content>',
  context: '--context',
  expectedResponse: '--expected',
  runId: '--run',
  inReplyTo: '--in-reply-to',
  phase: '--phase',
};

export function registerSend(program: Command, deps: CliDeps): void {
  program
    .command('send')
    .description('publish a message on the bus; a REQUEST becomes a job for its agent')
    .addOption(
      new Option('--to <recipient>', 'recipient role, or ALL')
        .choices(RecipientSchema.options)
        .makeOptionMandatory(),
    )
    .addOption(new Option('--type <type>', 'message type').choices(MESSAGE_TYPES).makeOptionMandatory())
    .addOption(new Option('--from <sender>', 'sender').choices(SenderSchema.options).default('system'))
    .addOption(new Option('--priority <priority>', 'priority').choices(PRIORITIES).default('NORMAL'))
    .addOption(new Option('--run <id>', 'run id (default: a new run)').argParser(parseId))
    .option('--context <text>', 'background for the recipient')
    .option('--expected <text>', 'what the sender expects back')
    .addOption(new Option('--in-reply-to <id>', 'id of the message this answers').argParser(parseId))
    .addOption(new Option('--phase <n>', 'phase of the run').choices(['1', '2', '3', '4']))
    .option('--json', 'print the result as JSON')
    .argument('<content...>', 'the message content ("-" reads it from stdin)')
    .action(async (words: string[], options: SendOptions, command: Command) => {
      const content = words.length === 1 && words[0] === '-' ? await readStdin(deps) : words.join(' ');
      const draft: Record<string, unknown> = {
        id: newId('msg'),
        runId: options.run ?? newId('run'),
        from: options.from,
        to: options.to,
        type: options.type,
        priority: options.priority,
        timestamp: (deps.now?.() ?? new Date()).toISOString(),
        content,
      };
      if (options.context !== undefined) draft.context = options.context;
      if (options.expected !== undefined) draft.expectedResponse = options.expected;
      if (options.inReplyTo !== undefined) draft.inReplyTo = options.inReplyTo;
      if (options.phase !== undefined) draft.phase = Number.parseInt(options.phase, 10);
      const checked = MessageSchema.safeParse(draft);
      if (!checked.success) {
        const list = problemsFrom(checked.error).map((p) => `${OPTION_OF[p.path] ?? p.path}: ${p.expected}`);
        command.error(`error: invalid message: ${list.join('; ')}`, {
          exitCode: 2,
          code: 'nightshift.invalidMessage',
        });
      }
      const message = checked.data;
      const result = await withBus(deps, (bus) => bus.publish(message));
      if (options.json) {
        deps.stdout(
          `${JSON.stringify({ id: message.id, runId: message.runId, type: message.type, to: message.to, ...result })}\n`,
        );
      } else {
        deps.stdout(`${message.id}\n`);
      }
    });
}

async function readStdin(deps: CliDeps): Promise<string> {
  if (deps.readStdin) return deps.readStdin();
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8').replace(/\n$/, '');
}
