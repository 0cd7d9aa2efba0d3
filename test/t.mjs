import { enqueueRun } from '@nightshift/redis';
const r = await enqueueRun('redis://127.0.0.1:6379', { task: 'x' }, { prefix: '{dbg}' });
console.log(r);
