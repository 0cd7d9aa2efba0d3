// ask_scout and web_search: interfaces only; the agent service injects the implementations.
import { z } from 'zod';
import { ToolUnavailable } from './result.js';
import { defineTool } from './tool.js';

export const askScoutTool = defineTool({
  name: 'ask_scout',
  description: 'Ask the Scout a research question (a REQUEST on the bus); returns its answer.',
  parameters: z.object({ question: z.string().min(1).max(4000) }),
  async execute({ question }, ctx) {
    if (ctx.askScout === undefined) throw new ToolUnavailable('ask_scout is not available here');
    const answer = await ctx.askScout(question, ctx);
    return { output: answer };
  },
});

export const webSearchTool = defineTool({
  name: 'web_search',
  description: 'Search the web (only when a search provider is configured).',
  parameters: z.object({ query: z.string().min(1).max(500) }),
  async execute({ query }, ctx) {
    // No provider is built in (none is reachable here); off unless one is injected (issue 6 §1).
    if (ctx.webSearch === undefined) {
      throw new ToolUnavailable('web_search is not configured (no search provider)');
    }
    return { output: await ctx.webSearch(query, ctx) };
  },
});
