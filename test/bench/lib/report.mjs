export function renderTable(result) { return JSON.stringify(result, null, 1); }
