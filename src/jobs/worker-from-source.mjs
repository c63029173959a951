// The worker thread's entry when the gateway runs from its TypeScript sources (tests, `npm run dev`):
// registers tsx in this thread, then loads the worker. Built gateways load worker.js directly.
import { register } from 'tsx/esm/api';

register();
const { default: work } = await import('./worker.ts');
export default work;
