// The answer-format instructions every persona shares (guide §5 "Message Format Standard").

/** Appended to every persona: how to answer, in the guide's markdown message form. */
export function formatInstructions(displayName: string): string {
  return [
    'Answer with exactly one message in the team format (guide §5), nothing before or after it:',
    '',
    `FROM: ${displayName}`,
    'TO: <the agent who asked you>',
    'TYPE: RESPONSE',
    'PRIORITY: <LOW | NORMAL | HIGH | EMERGENCY>',
    'TIMESTAMP: <ISO 8601>',
    '',
    '### Content',
    '<your answer: concrete, complete, no filler>',
    '',
    '### Context',
    '<what you relied on, assumptions, open risks (optional)>',
    '',
    '### Expected Response',
    '<what you need back, if anything (optional)>',
    '',
    'Rules: one message; lines starting with "###" inside a section must be avoided; say "I don\'t know" rather',
    'than guess; if a request is outside your role, say whose role it is and stop.',
  ].join('\n');
}
