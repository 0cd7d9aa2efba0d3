export async function benchPeers() { throw new Error('todo'); }
