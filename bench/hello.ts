/** A bare express hello-world, the baseline the gateway's /capabilities throughput is compared with. */
import express from 'express';

const app = express();
app.get('/', (_req, res) => {
  res.json({ hello: 'world' });
});
const server = app.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') console.log(JSON.stringify({ url: `http://127.0.0.1:${addr.port}` }));
});
