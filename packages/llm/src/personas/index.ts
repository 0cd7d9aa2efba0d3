// Personas: one system prompt per role, the shared answer format, prompt building.
export { formatInstructions } from './format.js';
export { buildAgentPrompt, type ModelReply, readModelReply } from './prompt.js';
export { PERSONAS, type Persona, personaFor } from './roles.js';
