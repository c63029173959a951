/** Starts the gateway from the environment and stops it gracefully on SIGTERM/SIGINT (the work is serve()'s). */
import { serve } from './serve.js';

serve().catch((err) => {
  console.error('failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
